"""The crawl loop: breadth-first per source, every URL decided once, every decision recorded.

Nothing a website does may stop a crawl: timeouts, 5xx, dead hosts and broken markup become
rows with outcome `failed` (or `skipped`, `disallowed`) and the crawl goes on. URLs are
decided once per crawl across all sources, in config order; a later source still follows the
links of pages an earlier source fetched, so sources can split a site without duplicate rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from eswi_assets.crawl.browser import BrowserPool
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

__all__ = [
    "RAW_PAGES_COLUMNS",
    "RAW_PAGES_DTYPES",
    "PageRecord",
    "crawl",
    "records_to_frame",
]

DEFAULT_HTTP_WORKERS = 4
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
        self.limiter.wait(host_of(url), self.source.delay_seconds)

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
            outcome = "disallowed" if decision.verdict == "disallowed" else "failed"
            return PageRecord(url, s.name, outcome, depth, error=decision.reason)

        fetched = self.http.fetch(
            url,
            timeout_s=s.request_timeout_s,
            max_retries=s.max_retries,
            max_bytes=s.max_bytes,
            pace=self.pace,
        )
        common = {"http_status": fetched.http_status, "attempts": fetched.attempts}
        if fetched.outcome != "ok":
            return PageRecord(url, s.name, fetched.outcome, depth, error=fetched.error, **common)
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
                pace=self.pace,
            )
            common |= {"attempts": fetched.attempts + rendered.attempts, "rendered": True}
            if rendered.error is not None:
                return PageRecord(url, s.name, "failed", depth, error=rendered.error, **common)
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


def _crawl_source(
    source: SourceConfig,
    crawl_date: dt.date,
    visitor: _Visitor,
    decided: dict[str, PageRecord],
    pool: ThreadPoolExecutor,
    emit: Callable[[str], object],
) -> list[PageRecord]:
    """Breadth-first by depth; a level runs concurrently, its links form the next level."""
    progress = Progress(source.name, emit)
    frontier = _start_frontier(source, crawl_date)
    seen = set(frontier)
    own: list[PageRecord] = []
    for depth in range(source.max_depth + 1):
        todo = [u for u in frontier if u not in decided]
        budget = source.max_pages - len(own)
        if len(todo) > budget:
            emit(
                f"source {source.name}: max_pages={source.max_pages} reached; "
                f"{len(todo) - budget} discovered URLs at depth {depth} left uncrawled"
            )
            todo = todo[:budget]
        progress.expected += len(todo)
        futures = [pool.submit(visitor.visit, url, depth) for url in todo]
        for future in as_completed(futures):
            progress.add(future.result())
        for future in futures:
            record = future.result()
            decided[record.url] = record
            own.append(record)
        if len(own) >= source.max_pages or depth == source.max_depth:
            break
        frontier = _next_level(frontier, decided, seen, source)
    progress.report()
    return own


def _next_level(
    frontier: list[str],
    decided: dict[str, PageRecord],
    seen: set[str],
    source: SourceConfig,
) -> list[str]:
    """Links of this level's pages (this source's or an earlier one's), new and in scope."""
    next_urls: list[str] = []
    for url in frontier:
        record = decided.get(url)
        for link in record.links if record is not None else ():
            if link not in seen and host_allowed(host_of(link), source.allowed_domains):
                seen.add(link)
                next_urls.append(link)
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
            records += _crawl_source(source, crawl_date, visitor, decided, pool, emit)
    return records
