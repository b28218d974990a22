"""Sticky A/B assignment: a user's variant is a pure function of a secret salt and the user id.

sha256, not Python's `hash()` (randomised per process), so every worker, replica and restart
agrees without sharing state; the salt keeps users from choosing their variant, and the
experiment name is hashed too, so a new experiment reshuffles everyone.
"""

from __future__ import annotations

import hashlib

from eswi_assets.serving.registry import Variant


def bucket(salt: str, experiment: str, user_id: str) -> float:
    """A number in [0, 1), uniform over users and fixed for one user."""
    digest = hashlib.sha256(f"{salt}\x1f{experiment}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(salt: str, experiment: str, user_id: str, candidate_share: float) -> Variant:
    return "candidate" if bucket(salt, experiment, user_id) < candidate_share else "baseline"
