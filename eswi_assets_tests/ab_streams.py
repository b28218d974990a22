"""Simulated A/B rating streams for the verdict's statistics (tests and benchmarks alike)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CANDIDATE, BASELINE = "ppo_model/run-2", "sft_model/run-1"


def rating_stream(rng: np.random.Generator, users: int, shift: float) -> pd.DataFrame:
    """Ratings in arrival order (model_version, user_hash, rating, created_at): each user is
    assigned one side (sticky, as the serving A/B is), has their own bias and rates 1-6
    answers at random times; the candidate's ratings are `shift` points higher."""
    events = []
    for user in range(users):
        version = CANDIDATE if rng.random() < 0.5 else BASELINE
        bias = rng.normal(0, 1)
        for _ in range(int(rng.integers(1, 7))):
            value = 3 + bias + (shift if version == CANDIDATE else 0) + rng.normal(0, 1)
            events.append((rng.random(), version, f"u{user}", float(np.clip(np.rint(value), 1, 5))))
    events.sort()
    return pd.DataFrame(
        {
            "model_version": [e[1] for e in events],
            "user_hash": [e[2] for e in events],
            "rating": [e[3] for e in events],
            "created_at": pd.date_range("2026-11-20", periods=len(events), freq="min"),
        }
    )
