"""Stop a training step with a clear error instead of saving a broken model."""

from __future__ import annotations

import math
from collections.abc import Mapping

from transformers import TrainerCallback


class TrainingDivergedError(RuntimeError):
    """A loss or metric became NaN or infinite."""


def require_finite(metrics: Mapping[str, float], step: str) -> None:
    bad = {k: v for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        raise TrainingDivergedError(
            f"{step}: non-finite {bad}; lower the learning rate or check the data"
        )


class StopOnNonFiniteLoss(TrainerCallback):
    """Fails at the first logged NaN/inf loss, before a diverged model reaches the model store."""

    def __init__(self, step: str) -> None:
        self.step = step

    def on_log(self, args, state, control, logs=None, **kwargs):
        losses = {k: v for k, v in (logs or {}).items() if "loss" in k}
        require_finite(losses, f"{self.step} at step {state.global_step}")
