"""Precision and device follow the hardware: bf16 on a CUDA card that supports it, fp32 on CPU.

TRL's configs default `bf16=True`, which on a CPU silently switches to slow bf16 autocast; every
trainer here takes its precision from this one place instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from eswi_assets.training.checkpoints import SAVE_EVERY_SHARE


@dataclass(frozen=True)
class Hardware:
    device: str
    bf16: bool

    @property
    def on_gpu(self) -> bool:
        return self.device == "cuda"

    def trainer_args(self) -> dict[str, bool]:
        """Keyword arguments for any `transformers.TrainingArguments` subclass."""
        return {"bf16": self.bf16, "fp16": False, "use_cpu": not self.on_gpu}

    def shared_trainer_args(self, output_dir: Path, seed: int) -> dict[str, Any]:
        """What every trainer here is given alike: a checkpoint every `SAVE_EVERY_SHARE` of the
        run, one kept (enough to resume), NaN losses logged as they are (so the non-finite-loss
        stop sees them), no trackers or progress bars, precision from this hardware."""
        return {
            "output_dir": str(output_dir),
            "seed": seed,
            "logging_nan_inf_filter": False,
            "save_strategy": "steps",
            "save_steps": SAVE_EVERY_SHARE,
            "save_total_limit": 1,
            "gradient_checkpointing": False,
            "report_to": "none",
            "disable_tqdm": True,
            **self.trainer_args(),
        }


def detect_hardware() -> Hardware:
    if torch.cuda.is_available():
        return Hardware(device="cuda", bf16=torch.cuda.is_bf16_supported())
    return Hardware(device="cpu", bf16=False)
