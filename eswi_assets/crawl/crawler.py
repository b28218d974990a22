"""The crawl loop: breadth-first per source, every URL decided once, every decision recorded.

Nothing a website does may stop a crawl: timeouts, 5xx, dead hosts and broken markup become
rows with outcome `failed` (or `skipped`, `disallowed`) and the crawl goes on. URLs are
decided once per crawl across all sources, in config order; a later source still follows the
links of pages an earlier source fetched, so sources can split a site without duplicate rows.

Failures that may pass (5xx, 429, timeouts, dropped connections, a crashed browser, robots.txt
down) get one bounded second pass at the end of each source, and the links of pages it
recovers are crawled as usual, so one bad moment does not cost a listing's whole subtree.
Importing this module pulls in neither pandas nor selenium: both load when first used.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import TYPE_CHECKING

from eswi_assets.crawl.config import CrawlConfig, SourceConfig, host_allowed
from eswi_assets.crawl.fetchers import HttpFetcher
from eswi_assets.crawl.politeness import HostLimiter
from eswi_assets.crawl.records import (
    RAW_PAGES_COLUMNS,
    RAW_PAGES_DTYPES,
    PageRecord,
    records_to_frame,
)
from eswi_assets.crawl.robots import RobotsCache
from eswi_assets.crawl.urls import host_of, normalize_url, page_links, page_title, parse_html

if TYPE_CHECKING:
    from eswi_assets.crawl.browser import BrowserPool

__all__ = [
    "RAW_PAGES_COLUMNS",
    "RAW_PAGES_DTYPES",
    "PageRecord",
    "crawl",
    "records_to_frame",
]

DEFAULT_HTTP_WORKERS = 4
# A robots.txt Crawl-delay longer than this is read as this: a site asking for hours between
# requests would otherwise hold a daily run for days.
MAX_CRAWL_DELAY_S = 60.0
Log = logging.Logger | logging.LoggerAdapter | Callable[[str], object]


def _emitter(log: Log) -> Callable[[str], object]:
    """Accept a logging.Logger, Dagster's context.log, or any callable taking a message."""
    info = getattr(log, "info", None)
    return info if callable(info) else log  # type: ignore[return-value]


class Progress:
    """Logs a source's progress every `every_pages` decisions or `every_s` seconds."""

    def __init__(
        self,
        source: str,
        emit: Callable[[str], object],
        *,
        every_pages: int = 25,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self._emit, self._clock = source, emit, clock
        self._every_pages, self._every_s = every_pages, every_s
        self.counts: Counter[str] = Counter()
        self.expected = 0
        self._started = self._last_at = clock()
        self._last_done = 0

    @property
    def done(self) -> int:
        return self.counts.total()

    def add(self, record: PageRecord) -> None:
        self.counts[record.outcome] += 1
        now = self._clock()
        if self.done - self._last_done >= self._every_pages or now - self._last_at >= self._every_s:
            self.report()

    def report(self) -> None:
        self._last_done, self._last_at = self.done, self._clock()
        elapsed = max(self._last_at - self._started, 1e-9)
        outcomes = ", ".join(
            f"{name} {self.counts[name]}"
            for name in ("ok", "failed", "disallowed", "skipped")
            if name != "skipped" or self.counts[name]
        )
        self._emit(
            f"source {self.source}: {self.done}/{self.expected} done ({outcomes}), "
            f"{self.done / elapsed:.1f} pages/s"
        )


class _Visitor:
    """Decides one URL of one source: robots, HTTP, then (for JS sources) Chromium."""

    def __init__(
        self,
        source: SourceConfig,
        http: HttpFetcher,
        browser: BrowserPool | None,
        robots: RobotsCache,
        limiter: HostLimiter,
    ) -> None:
        self.source, self.http, self.browser = source, http, browser
        self.robots, self.limiter = robots, limiter

    def pace(self, url: str) -> None:
        delay = self.source.delay_seconds
        if self.source.obey_crawl_delay:
            delay = max(delay, min(self.robots.crawl_delay(url) or 0.0, MAX_CRAWL_DELAY_S))
        self.limiter.wait(host_of(url), delay)

    def visit(self, url: str, depth: int) -> PageRecord:
        try:
            return self._visit(url, depth)
        except Exception as exc:  # one page's surprise must not end a crawl of thousands
            error = f"crawler error: {type(exc).__name__}: {exc}"
            return PageRecord(url, self.source.name, "failed", depth, error=error)

    def _visit(self, url: str, depth: int) -> PageRecord:
        s = self.source
        decision = self.robots.check(
            url, timeout_s=s.request_timeout_s, max_retries=s.max_retries, pace=self.pace
        )
        if decision.verdict != "allowed":
            if decision.verdict == "disallowed":
                return PageRecord(url, s.name, "disallowed", depth, error=decision.reason)
            return PageRecord(url, s.name, "failed", depth, error=decision.reason, retryable=True)

        fetched = self.http.fetch(
            url,
            timeout_s=s.request_timeout_s,
            max_retries=s.max_retries,
            max_bytes=s.max_bytes,
            pace=self.pace,
        )
        common = {"http_status": fetched.http_status, "attempts": fetched.attempts}
        if fetched.outcome != "ok":
            return PageRecord(
                url,
                s.name,
                fetched.outcome,
                depth,
                error=fetched.error,
                retryable=fetched.retryable,
                **common,
            )
        if not host_allowed(host_of(fetched.final_url), s.allowed_domains):
            error = f"redirected outside allowed domains to {fetched.final_url}"
            return PageRecord(url, s.name, "skipped", depth, error=error, **common)

        html = fetched.text
        if s.render_js:
            assert self.browser is not None  # checked before the crawl starts
            rendered = self.browser.render(
                fetched.final_url,
                wait_for=s.wait_for,
                wait_timeout_s=s.render_timeout_s,
                page_load_timeout_s=s.page_load_timeout_s,
                max_retries=s.max_retries,
                pace=self.pace,
            )
            common |= {"attempts": fetched.attempts + rendered.attempts, "rendered": True}
            if rendered.http_status is not None:
                common["http_status"] = rendered.http_status
            if rendered.error is not None:
                return PageRecord(
                    url,
                    s.name,
                    "failed",
                    depth,
                    error=rendered.error,
                    retryable=rendered.retryable,
                    **common,
                )
            html = rendered.html

        doc = parse_html(html)
        return PageRecord(
            url,
            s.name,
            "ok",
            depth,
            html=html,
            title=page_title(doc),
            links=tuple(page_links(doc, fetched.final_url)),
            **common,
        )


def _start_frontier(source: SourceConfig, crawl_date: dt.date) -> list[str]:
    urls = (normalize_url(u) for u in source.start_urls_for(crawl_date))
    return list(dict.fromkeys(u for u in urls if u is not None))


class _SourceCrawl:
    """One source's breadth-first crawl: levels run concurrently, their links form the next."""

    def __init__(
        self,
        source: SourceConfig,
        visitor: _Visitor,
        decided: dict[str, PageRecord],
        pool: ThreadPoolExecutor,
        emit: Callable[[str], object],
    ) -> None:
        self.source, self.visitor, self.decided = source, visitor, decided
        self.pool, self.emit = pool, emit
        self.progress = Progress(source.name, emit)
        self.own: dict[str, PageRecord] = {}
        self.seen: set[str] = set()

    def run(self, start: list[str]) -> list[PageRecord]:
        self.seen.update(start)
        self._levels([(url, 0) for url in start])
        retry = [r for r in self.own.values() if r.outcome == "failed" and r.retryable]
        retry = retry[: self.source.second_pass_max_pages]
        if retry:
            self.emit(f"source {self.source.name}: second pass over {len(retry)} failed URLs")
            self.visitor.robots.forget_unavailable()
            recovered = self._visit([(r.url, r.depth) for r in retry], again=True)
            self._levels(self._next_level([(r, r.depth) for r in recovered]))
        self.progress.report()
        return list(self.own.values())

    def _levels(self, frontier: list[tuple[str, int]]) -> None:
        while frontier:
            todo = [(url, depth) for url, depth in frontier if url not in self.decided]
            budget = self.source.max_pages - len(self.own)
            if len(todo) > budget:
                self.emit(
                    f"source {self.source.name}: max_pages={self.source.max_pages} reached; "
                    f"{len(todo) - budget} discovered URLs left uncrawled"
                )
                todo = todo[:budget]
            self.progress.expected += len(todo)
            self._visit(todo, again=False)
            if len(self.own) >= self.source.max_pages:
                return
            done = [(self.decided[u], depth) for u, depth in frontier if u in self.decided]
            frontier = self._next_level(done)

    def _visit(self, todo: list[tuple[str, int]], *, again: bool) -> list[PageRecord]:
        """Visit URLs concurrently; on a second pass the new record keeps the first's attempts."""
        futures = [self.pool.submit(self.visitor.visit, url, depth) for url, depth in todo]
        if not again:
            for future in as_completed(futures):
                self.progress.add(future.result())
        records = []
        for future in futures:
            record = future.result()
            if again:
                first = self.own[record.url]
                record = replace(record, attempts=first.attempts + record.attempts)
                self.progress.counts[first.outcome] -= 1
                self.progress.counts[record.outcome] += 1
            self.decided[record.url] = self.own[record.url] = record
            records.append(record)
        return records

    def _next_level(self, pages: list[tuple[PageRecord, int]]) -> list[tuple[str, int]]:
        """Links of pages at a depth (this source's or an earlier one's), new and in scope."""
        next_urls: list[tuple[str, int]] = []
        for record, depth in pages:
            if depth >= self.source.max_depth:
                continue
            for link in record.links:
                if link not in self.seen and host_allowed(
                    host_of(link), self.source.allowed_domains
                ):
                    self.seen.add(link)
                    next_urls.append((link, depth + 1))
        return next_urls


def crawl(
    config: CrawlConfig,
    *,
    crawl_date: dt.date,
    browser: BrowserPool | None,
    http: HttpFetcher,
    log: Log,
    workers: int | None = None,
    limiter: HostLimiter | None = None,
) -> list[PageRecord]:
    """Crawl every source of `config` for `crawl_date`; one record per URL decided.

    Runs `workers` pages at a time (default: the browser pool's size), pacing every request
    per host with `limiter`. Raises only for a config it cannot run at all: a JavaScript
    source without a browser pool.
    """
    needs_browser = [s.name for s in config.sources if s.render_js]
    if needs_browser and browser is None:
        raise ValueError(f"sources {needs_browser} render JavaScript but no browser pool was given")
    emit = _emitter(log)
    limiter = limiter or HostLimiter()
    robots = RobotsCache(http, config.user_agent)
    size = workers or (browser.size if browser is not None else DEFAULT_HTTP_WORKERS)
    decided: dict[str, PageRecord] = {}
    records: list[PageRecord] = []
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="crawl") as pool:
        for source in config.sources:
            visitor = _Visitor(source, http, browser, robots, limiter)
            sourced = _SourceCrawl(source, visitor, decided, pool, emit)
            records += sourced.run(_start_frontier(source, crawl_date))
    return records
