"""Per-user rate limits: a token bucket per (user hash, action), in this process.

The buckets live in memory, so the limit holds per replica: with N replicas behind a load
balancer a user gets up to N times the rate (a shared limiter would need a round trip to the
store on every request, which the limit is there to protect). The oldest buckets are dropped
past `max_users`, so memory stays bounded whatever the number of users.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from eswi_assets.serving.batching import QueueFullError


class RateLimitedError(QueueFullError):
    """A user sent more than their share; `retry_after` says when the request would pass.

    A QueueFullError, so callers that already treat a full queue as "busy, try later" (the LINE
    bot) treat this the same way."""

    def __init__(self, action: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many {action} requests for this user; retry in {self.retry_after}s")


@dataclass(frozen=True)
class Rate:
    per_minute: float  # 0 turns the limit off
    burst: int


class RateLimiter:
    def __init__(self, rates: dict[str, Rate], max_users: int = 100_000) -> None:
        self.rates = rates
        self.max_users = max_users
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, action: str, user_hash: str, cost: float = 1) -> None:
        """Spends `cost` tokens of the user's bucket for `action`, or raises RateLimitedError."""
        rate = self.rates[action]
        if rate.per_minute <= 0:
            return
        per_second = rate.per_minute / 60
        now = time.monotonic()
        key = (action, user_hash)
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - at) * per_second)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError(action, (cost - tokens) / per_second)
            self._buckets[key] = (tokens - cost, now)
            while len(self._buckets) > self.max_users:
                self._buckets.popitem(last=False)
