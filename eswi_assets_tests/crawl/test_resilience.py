"""Transient trouble costs retries, never pages: the second pass, Crawl-delay, hostile sites,
and a whole-site crawl through 20% injected faults that stores every page exactly once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from eswi_assets.crawl.crawler import crawl
from eswi_assets.crawl.politeness import HostLimiter
from eswi_assets.crawl.records import PageRecord
from eswi_assets.demo_site.faults import Faults
from eswi_assets.demo_site.server import serve
from eswi_assets_tests.crawl.support import RouteServer, by_path, fast_fetcher, make_config

DAY = dt.date(2026, 11, 7)
HTML = {"Content-Type": "text/html; charset=utf-8"}
LISTING = b'<html><title>list</title><a href="/a.html">a</a> <a href="/b.html">b</a></html>'


def run(config, **kwargs) -> list[PageRecord]:
    with fast_fetcher() as http:
        return crawl(config, crawl_date=DAY, browser=None, http=http, log=lambda m: None, **kwargs)


def listing_down_for(failures: int) -> RouteServer:
    """Listings (/list*) that answer 503 `failures` times before they work; pages elsewhere."""

    def route(path: str, n: int) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return 404, {}, b""
        if path.startswith("/list"):
            return (503, {}, b"busy") if n <= failures else (200, HTML, LISTING)
        return 200, HTML, f"<html><title>{path}</title></html>".encode()

    return RouteServer(route)


def test_second_pass_recovers_a_listing_that_failed_and_crawls_its_subtree():
    with listing_down_for(2) as server:
        records = run(make_config({"start_urls": [server.url("/list.html")], "max_retries": 1}))
    rows = by_path(records, server.base_url)
    assert {path: r.outcome for path, r in rows.items()} == {
        "/list.html": "ok",
        "/a.html": "ok",
        "/b.html": "ok",
    }
    assert (rows["/list.html"].attempts, rows["/list.html"].http_status) == (3, 200)
    assert len(records) == 3 and server.hits["/list.html"] == 3


def test_without_the_second_pass_the_subtree_is_lost():
    config = make_config(
        {"start_urls": ["http://127.0.0.1/"], "max_retries": 1, "second_pass_max_pages": 0}
    )
    with listing_down_for(2) as server:
        source = config.sources[0].model_copy(update={"start_urls": [server.url("/list.html")]})
        records = run(config.model_copy(update={"sources": [source]}))
    assert [(r.url, r.outcome) for r in records] == [(server.url("/list.html"), "failed")]


def test_the_second_pass_is_bounded_and_tries_each_url_once_more():
    with listing_down_for(100) as server:
        config = make_config(
            {
                "start_urls": [server.url("/list.html"), server.url("/list.html?x=1")],
                "max_retries": 1,
                "second_pass_max_pages": 1,
            }
        )
        records = run(config)
    assert [r.outcome for r in records] == ["failed", "failed"]
    assert [r.attempts for r in records] == [4, 2]  # only the first got the second pass
    assert all(r.retryable and r.http_status == 503 for r in records)


class RecordingLimiter(HostLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    def wait(self, host: str, delay: float) -> float:
        self.delays.append(delay)
        return 0.0


@pytest.mark.parametrize(
    ("crawl_delay", "delay_seconds", "obey", "expected"),
    [(3, 0, True, 3.0), (3, 5, True, 5.0), (3, 0, False, 0.0), (86400, 0, True, 60.0)],
)
def test_crawl_delay_is_honoured_when_longer_than_the_configured_delay(
    crawl_delay, delay_seconds, obey, expected
):
    def route(path: str, n: int) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            rules = f"User-agent: *\nCrawl-delay: {crawl_delay}\n".encode()
            return 200, {"Content-Type": "text/plain"}, rules
        return 200, HTML, LISTING

    limiter = RecordingLimiter()
    with RouteServer(route) as server:
        config = make_config(
            {
                "start_urls": [server.url("/list.html")],
                "delay_seconds": delay_seconds,
                "obey_crawl_delay": obey,
            }
        )
        records = run(config, limiter=limiter)
    assert [r.outcome for r in records] == ["ok"] * 3
    # the robots.txt request itself is paced before its Crawl-delay is known
    assert limiter.delays == [delay_seconds] + [expected] * 3


@pytest.mark.parametrize("robots_status", [404, 429])
def test_a_site_that_answers_429_to_everything_gets_a_failed_row_per_url(robots_status):
    def route(path: str, n: int) -> tuple[int, dict[str, str], bytes]:
        status = robots_status if path == "/robots.txt" else 429
        return status, {"Retry-After": "0", **HTML}, b"slow down"

    with RouteServer(route) as server:
        urls = [server.url("/a.html"), server.url("/b.html")]
        records = run(make_config({"start_urls": urls, "max_retries": 1}))
        pages_requested = sum(n for path, n in server.hits.items() if path != "/robots.txt")
    assert [(r.url, r.outcome) for r in records] == [(u, "failed") for u in urls]
    if robots_status == 429:  # robots.txt never answered: the pages are never requested
        assert all("robots.txt unavailable" in r.error for r in records)
        assert pages_requested == 0
    else:
        assert all(r.http_status == 429 and r.attempts == 4 for r in records)
        assert pages_requested == 8


def outcome_and_hash(records: list[PageRecord], base_url: str) -> dict[str, tuple[str, str]]:
    return {path: (r.outcome, r.content_hash) for path, r in by_path(records, base_url).items()}


@pytest.mark.slow
def test_whole_site_through_20_percent_faults_loses_and_duplicates_nothing(site, manifest):
    source = {"max_depth": 4, "max_pages": 400, "max_retries": 3}
    clean = run(make_config({"start_urls": [site.url("/")], **source}), workers=8)
    with serve(manifest.root, faults=Faults(0.2, seed=16)) as faulty:
        noisy = run(make_config({"start_urls": [faulty.url("/")], **source}), workers=8)
        injected = faulty.faults.injected
    assert len({r.url for r in noisy}) == len(noisy)  # nothing duplicated
    assert outcome_and_hash(noisy, faulty.base_url) == outcome_and_hash(clean, site.base_url)
    assert sum(r.outcome == "ok" for r in noisy) > 240
    assert set(injected) == {"500", "503", "429", "reset"} and injected.total() > 50


def test_importing_the_crawler_loads_neither_pandas_nor_selenium_nor_torch():
    code = (
        "import sys, eswi_assets.crawl.crawler;"
        "print(' '.join(m for m in ('pandas', 'selenium', 'torch', 'dagster') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == []


def test_faults_draw_every_kind_at_about_the_rate():
    faults = Faults(0.2, seed=1)
    drawn = Counter(faults.draw() for _ in range(5000))
    assert 800 < 5000 - drawn[None] < 1200
    assert set(drawn) - {None} == {"500", "503", "429", "reset"}
