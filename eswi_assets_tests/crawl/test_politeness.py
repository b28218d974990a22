"""The per-host limiter spaces requests to one host, measured on an injected clock."""

from __future__ import annotations

import threading

from eswi_assets.crawl.politeness import HostLimiter


class FakeClock:
    """Time moves only when someone sleeps, so spacing is exact and the test never waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)


def test_second_request_to_one_host_waits_the_delay_but_another_host_does_not():
    clock = FakeClock()
    limiter = HostLimiter(clock=clock, sleep=clock.sleep)
    assert limiter.wait("a.tw", 2.0) == 0
    assert limiter.wait("b.tw", 2.0) == 0
    assert limiter.wait("a.tw", 2.0) == 2.0
    assert clock.sleeps == [2.0]


def test_no_wait_once_the_delay_has_passed():
    clock = FakeClock()
    limiter = HostLimiter(clock=clock, sleep=clock.sleep)
    limiter.wait("a.tw", 1.5)
    clock.now += 1.5
    assert limiter.wait("a.tw", 1.5) == 0


def test_concurrent_requests_to_one_host_get_distinct_slots_one_delay_apart():
    clock = FakeClock()
    limiter = HostLimiter(clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    threads = [
        threading.Thread(target=lambda: waits.append(limiter.wait("a.tw", 0.5))) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0, 0.5, 1.0, 1.5, 2.0, 2.5]
