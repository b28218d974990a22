"""A per-host pacer shared by every fetcher, so concurrency never turns into hammering one site."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class HostLimiter:
    """Spaces requests to the same host at least `delay` seconds apart, across threads.

    Each caller reserves the next free slot for its host under a lock and then sleeps outside
    it, so waiting for one host never blocks requests to another. The clock and sleep are
    injectable so the spacing can be tested without waiting.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def wait(self, host: str, delay: float) -> float:
        """Block until a request to `host` is polite; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(host, now))
            self._next_free[host] = slot + delay
        waited = slot - now
        if waited > 0:
            self._sleep(waited)
        return waited
