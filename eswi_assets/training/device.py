"""Precision and device follow the hardware: bf16 on a CUDA card that supports it, fp32 on CPU.

TRL's configs default `bf16=True`, which on a CPU silently switches to slow bf16 autocast; every
trainer here takes its precision from this one place instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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


def detect_hardware() -> Hardware:
    if torch.cuda.is_available():
        return Hardware(device="cuda", bf16=torch.cuda.is_bf16_supported())
    return Hardware(device="cpu", bf16=False)
