"""Where a retried training step picks up: the newest trainer checkpoint in its run directory,
written often enough that a run of any length has some."""

from __future__ import annotations

from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

# Checkpoints per run: enough to resume a failed step without re-running most of it.
CHECKPOINTS_PER_RUN = 4
# `save_steps` below 1 is a share of the run's optimizer steps (transformers rounds it up).
SAVE_EVERY_SHARE = 1 / CHECKPOINTS_PER_RUN


def last_checkpoint(output_dir: Path) -> str | None:
    """`checkpoint-N` with the largest N under `output_dir`, or None (also when it is missing)."""
    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
