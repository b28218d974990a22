"""The cleaning thresholds and their defaults, in one light module: `Settings` (the
environment) takes its defaults from here and the pipeline reads them from here, so a default
is written once and importing the settings loads none of the cleaning libraries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CleaningSettings:
    min_body_chars: int = 40
    max_body_chars: int = 20_000
    min_cjk_share: float = 0.5
    near_duplicate_threshold: float = 0.8  # MinHash Jaccard estimate; also training's dedup
    num_perm: int = 128
    shingle: int = 3


DEFAULTS = CleaningSettings()
