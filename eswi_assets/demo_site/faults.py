"""Injected faults: a seeded share of requests answered 500, 503, 429 or a reset connection.

The crawl benchmark and tests serve the demo site through this to show that transient trouble
costs retries, never pages: every page still stored once, none lost, none duplicated.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Literal

FaultKind = Literal["500", "503", "429", "reset"]
FAULT_KINDS: tuple[FaultKind, ...] = ("500", "503", "429", "reset")


class Faults:
    """Draws, per request, whether to fail it and how; `injected` counts what was drawn."""

    def __init__(
        self, rate: float, *, seed: int = 0, kinds: tuple[FaultKind, ...] = FAULT_KINDS
    ) -> None:
        if not 0 <= rate < 1 or not kinds:
            raise ValueError("rate must be in [0, 1) and kinds non-empty")
        self.rate, self.kinds = rate, kinds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def draw(self) -> FaultKind | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] += 1
            return kind
