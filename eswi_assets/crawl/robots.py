"""robots.txt per host (RFC 9309), fetched once per crawl and asked before every request.

Status handling follows the RFC: 2xx is parsed, 4xx means no rules (allow all), and a 5xx or
an unreachable server means "assume complete disallow". That last case is not the site owner
saying no, it is the site being down, so it is reported as `unavailable` with the reason and
the crawler records those URLs as failed (never requested) rather than as `disallowed`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.robotparser import RobotFileParser

from eswi_assets.crawl.fetchers import HttpFetcher
from eswi_assets.crawl.urls import origin_of

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
Verdict = Literal["allowed", "disallowed", "unavailable"]


@dataclass(frozen=True)
class RobotsDecision:
    verdict: Verdict
    reason: str | None = None


@dataclass(frozen=True)
class _HostRules:
    parser: RobotFileParser | None
    unavailable: str | None


class RobotsCache:
    """Fetches each origin's robots.txt once (thread-safe) and answers `check(url)` from memory."""

    def __init__(self, http: HttpFetcher, user_agent: str | None = None) -> None:
        self._http = http
        self._user_agent = user_agent or http.user_agent
        self._lock = threading.Lock()
        self._origin_locks: dict[str, threading.Lock] = {}
        self._rules: dict[str, _HostRules] = {}

    def check(
        self,
        url: str,
        *,
        timeout_s: float = 15.0,
        max_retries: int = 3,
        pace: Callable[[str], object] | None = None,
    ) -> RobotsDecision:
        rules = self._rules_for(origin_of(url), timeout_s, max_retries, pace)
        if rules.unavailable is not None:
            return RobotsDecision("unavailable", rules.unavailable)
        if rules.parser is None or rules.parser.can_fetch(self._user_agent, url):
            return RobotsDecision("allowed")
        return RobotsDecision("disallowed", "disallowed by robots.txt")

    def _rules_for(
        self,
        origin: str,
        timeout_s: float,
        max_retries: int,
        pace: Callable[[str], object] | None,
    ) -> _HostRules:
        with self._lock:
            lock = self._origin_locks.setdefault(origin, threading.Lock())
        with lock:
            if origin not in self._rules:
                self._rules[origin] = self._fetch(origin, timeout_s, max_retries, pace)
            return self._rules[origin]

    def _fetch(
        self,
        origin: str,
        timeout_s: float,
        max_retries: int,
        pace: Callable[[str], object] | None,
    ) -> _HostRules:
        result = self._http.fetch(
            f"{origin}/robots.txt",
            timeout_s=timeout_s,
            max_retries=max_retries,
            max_bytes=ROBOTS_MAX_BYTES,
            html_only=False,
            pace=pace,
        )
        if result.outcome == "ok":
            parser = RobotFileParser()
            parser.parse(result.text.splitlines())
            return _HostRules(parser, None)
        status = result.http_status
        if status is not None and 400 <= status < 500 and status != 429:
            return _HostRules(None, None)
        return _HostRules(None, f"robots.txt unavailable ({result.error}); not requested")
