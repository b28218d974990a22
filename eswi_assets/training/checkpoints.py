"""Where a retried training step picks up: the newest trainer checkpoint in its run directory."""

from __future__ import annotations

from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint


def last_checkpoint(output_dir: Path) -> str | None:
    """`checkpoint-N` with the largest N under `output_dir`, or None (also when it is missing)."""
    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
