"""robots.txt per host (RFC 9309), fetched once per crawl and asked before every request.

Rules are read by Protego, the RFC 9309 parser Scrapy uses: `*` and `$` wildcards, the
longest matching rule wins (Allow on a tie), groups for one agent are merged and blank lines
do not end a group. Only the first 500 KiB are parsed (RFC 9309 2.5), so a huge file still
gives rules instead of blocking the host.

Status handling follows the RFC: 2xx is parsed, 4xx means no rules (allow all), and a 5xx or
an unreachable server means "assume complete disallow". That last case is not the site owner
saying no, it is the site being down, so the fetch is retried with backoff first; if it stays
down it is reported as `unavailable` and the crawler records those URLs as failed (never
requested, worth a second pass) rather than as `disallowed`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from protego import Protego

from eswi_assets.crawl.fetchers import HttpFetcher
from eswi_assets.crawl.urls import origin_of

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
# Tries for an unavailable robots.txt; with the fetcher's exponential backoff (0.5 s doubling,
# capped at 8 s) a host gets about half a minute to come back before its URLs fail.
ROBOTS_MIN_RETRIES = 6
Verdict = Literal["allowed", "disallowed", "unavailable"]


def _decode_robots(body: bytes, content_type: str | None) -> str:
    """RFC 9309 2.3: UTF-8; a cut at 500 KiB may split a character or a line, so drop the tail."""
    text = body.decode("utf-8", errors="replace")
    return text if len(body) < ROBOTS_MAX_BYTES else text.rpartition("\n")[0]


@dataclass(frozen=True)
class RobotsDecision:
    verdict: Verdict
    reason: str | None = None


@dataclass(frozen=True)
class _HostRules:
    parser: Protego | None
    unavailable: str | None


class RobotsCache:
    """Fetches each origin's robots.txt once (thread-safe) and answers `check(url)` from memory."""

    def __init__(
        self,
        http: HttpFetcher,
        user_agent: str | None = None,
        *,
        min_retries: int = ROBOTS_MIN_RETRIES,
    ) -> None:
        self._http = http
        self._user_agent = user_agent or http.user_agent
        self._min_retries = min_retries
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
        if rules.parser is None or rules.parser.can_fetch(url, self._user_agent):
            return RobotsDecision("allowed")
        return RobotsDecision("disallowed", "disallowed by robots.txt")

    def crawl_delay(self, url: str) -> float | None:
        """The host's `Crawl-delay` for our agent, or None (no rule, or not fetched yet)."""
        rules = self._rules.get(origin_of(url))
        if rules is None or rules.parser is None:
            return None
        return rules.parser.crawl_delay(self._user_agent)

    def forget_unavailable(self) -> None:
        """Drop hosts whose robots.txt was down, so a later check fetches it again."""
        with self._lock:
            for origin in [o for o, r in self._rules.items() if r.unavailable is not None]:
                del self._rules[origin]

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
            rules = self._rules.get(origin)
            if rules is None:
                rules = self._rules[origin] = self._fetch(origin, timeout_s, max_retries, pace)
            return rules

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
            max_retries=max(max_retries, self._min_retries),
            max_bytes=ROBOTS_MAX_BYTES,
            html_only=False,
            truncate=True,
            decode=_decode_robots,
            pace=pace,
        )
        if result.outcome == "ok":
            return _HostRules(Protego.parse(result.text), None)
        status = result.http_status
        if status is not None and 400 <= status < 500 and status != 429:
            return _HostRules(None, None)
        return _HostRules(None, f"robots.txt unavailable ({result.error}); not requested")
