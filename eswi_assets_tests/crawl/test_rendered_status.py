"""Rendered pages are judged by the browser's own response: real Chromium, real servers."""

from __future__ import annotations

import datetime as dt

import pytest

from eswi_assets.crawl.browser import BrowserPool, ChromiumDriver, start_chromium
from eswi_assets.crawl.crawler import crawl
from eswi_assets.crawl.records import PageRecord
from eswi_assets.demo_site.faults import Faults
from eswi_assets.demo_site.server import serve
from eswi_assets_tests.crawl.support import article_text, by_path, fast_fetcher, make_config

pytestmark = pytest.mark.browser

DAY = dt.date(2026, 11, 8)
FLAKY_TITLE = "終於載入的文章"


def fast_pool(**kwargs) -> BrowserPool:
    return BrowserPool(size=1, backoff_initial_s=0.01, backoff_max_s=0.05, **kwargs)


def render_crawl(pool: BrowserPool, *sources: dict, workers: int | None = None) -> list[PageRecord]:
    config = make_config(*({"render_js": True, "max_depth": 0, **s} for s in sources))
    with fast_fetcher() as http:
        return crawl(
            config, crawl_date=DAY, browser=pool, http=http, log=lambda m: None, workers=workers
        )


def test_rendered_page_answering_500_then_200_is_stored_once_as_ok_after_a_retry(site):
    path = "/trap/flaky/render-500.html"  # request 1 (HTTP check) passes, 2 (Chromium) fails
    pool = fast_pool()
    try:
        records = render_crawl(pool, {"start_urls": [site.url(path + "?fail_on=2")]})
    finally:
        pool.close()
    (record,) = records
    assert (record.outcome, record.rendered, record.http_status) == ("ok", True, 200)
    assert (record.attempts, site.hits[path]) == (3, 3)
    assert FLAKY_TITLE in record.html


def test_an_error_page_from_the_browser_is_never_stored_as_ok(site):
    path = "/trap/flaky/render-down.html"  # only the HTTP check passes
    pool = fast_pool()
    try:
        (record,) = render_crawl(
            pool,
            {
                "start_urls": [site.url(path + "?fail_after=1")],
                "max_retries": 2,
                "second_pass_max_pages": 0,
            },
        )
    finally:
        pool.close()
    assert (record.outcome, record.http_status, record.html) == ("failed", 500, "")
    assert record.error == "HTTP 500 in the browser" and record.retryable
    assert (record.attempts, site.hits[path]) == (4, 4)  # HTTP check, then 3 browser loads


def test_retry_after_from_the_browser_response_sets_the_wait(site):
    waits: list[float] = []
    pool = BrowserPool(size=1, backoff_initial_s=5, sleep=waits.append)
    try:
        result = pool.render(site.url("/trap/flaky/render-429.html?fail_on=1&status=429"))
    finally:
        pool.close()
    assert (result.error, result.http_status, result.attempts) == (None, 200, 2)
    assert waits == [0.0]  # the server's Retry-After: 0, not the 5 s backoff


def test_a_404_in_the_browser_is_final(site):
    pool = fast_pool()
    try:
        result = pool.render(site.url("/trap/flaky/render-404.html?fail_on=1&status=404"))
    finally:
        pool.close()
    assert (result.error, result.http_status, result.attempts) == (
        "HTTP 404 in the browser",
        404,
        1,
    )
    assert not result.retryable


def crashing_on(marker: str):
    """Drivers whose chromedriver dies while loading any URL containing `marker`."""

    def factory() -> ChromiumDriver:
        driver = start_chromium()
        load = driver.webdriver.get

        def get(url: str) -> None:
            if marker in url:
                driver.webdriver.service.stop()
            load(url)

        driver.webdriver.get = get
        return driver

    return factory


def test_a_browser_crashing_mid_page_is_recorded_for_that_url_and_the_crawl_goes_on(site, manifest):
    static = [p for p in manifest.pages if p.render == "static"][:2]
    crash = "/trap/flaky/crash.html?fail=0"
    pool = fast_pool(driver_factory=crashing_on("crash"))
    try:
        records = render_crawl(
            pool,
            {"start_urls": [site.url(static[0].path), site.url(crash), site.url(static[1].path)]},
        )
    finally:
        pool.close()
    rows = by_path(records, site.base_url)
    assert len(records) == 3
    assert rows[crash].outcome == "failed" and rows[crash].error.startswith("browser error")
    assert rows[crash].retryable and rows[crash].attempts == 6  # 2 passes: HTTP + 2 drivers
    for page in static:
        assert rows[page.path].outcome == "ok"
        assert article_text(rows[page.path].html) == page.body


@pytest.mark.slow
def test_rendered_crawl_through_20_percent_faults_loses_and_duplicates_nothing(site, manifest):
    source = {
        "max_depth": 1,
        "max_pages": 100,
        "max_retries": 3,
        "wait_for": "article, ul.articles",
        "render_timeout_s": 5,
    }
    start = "/list/02.html"
    with fast_fetcher() as http:
        plain = make_config({"start_urls": [site.url(start)], **source})
        clean = crawl(plain, crawl_date=DAY, browser=None, http=http, log=lambda m: None)
    pool = BrowserPool(size=2, backoff_initial_s=0.05, backoff_max_s=0.2)
    try:
        with serve(manifest.root, faults=Faults(0.2, seed=7)) as faulty:
            noisy = render_crawl(pool, {"start_urls": [faulty.url(start)], **source})
            injected = faulty.faults.injected
    finally:
        pool.close()
    expected = {path: r.outcome for path, r in by_path(clean, site.base_url).items()}
    rows = by_path(noisy, faulty.base_url)
    assert len(rows) == len(noisy)  # nothing duplicated
    assert {path: r.outcome for path, r in rows.items()} == expected  # nothing lost
    bodies = {p.path: p.body for p in manifest.pages}
    for path, record in rows.items():
        if path in bodies:
            assert article_text(record.html) == bodies[path], path
    assert injected.total() > 10
