"""The crawl loop over plain HTTP: traps become rows, robots.txt is obeyed, limits hold."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

import pytest

from eswi_assets.crawl.crawler import RAW_PAGES_COLUMNS, crawl, records_to_frame
from eswi_assets.crawl.politeness import HostLimiter
from eswi_assets.crawl.records import PageRecord, content_hash
from eswi_assets.demo_site.traps import BIG5_TEXT
from eswi_assets_tests.crawl.support import (
    article_text,
    by_path,
    closed_port_url,
    fast_fetcher,
    make_config,
)

DAY = dt.date(2026, 11, 5)


def run(config, **kwargs) -> list[PageRecord]:
    with fast_fetcher() as http:
        return crawl(config, crawl_date=DAY, browser=None, http=http, log=lambda m: None, **kwargs)


@pytest.fixture(scope="module")
def trap_records(site) -> dict[str, PageRecord]:
    config = make_config(
        {
            "start_urls": [site.url("/trap/index.html")],
            "max_depth": 1,
            "request_timeout_s": 0.5,
            "max_retries": 2,
        }
    )
    return by_path(run(config), site.base_url)


def test_every_trap_gets_a_row_and_the_crawl_goes_on(trap_records):
    outcomes = {path: r.outcome for path, r in trap_records.items()}
    assert outcomes == {
        "/trap/index.html": "ok",
        "/trap/slow.html?seconds=5": "failed",
        "/trap/status/500.html": "failed",
        "/trap/status/503.html": "failed",
        "/trap/status/429.html": "failed",
        "/trap/status/404.html": "failed",
        "/trap/flaky/demo.html?fail=2": "ok",
        "/trap/big5.html": "ok",
        "/trap/binary.bin": "skipped",
        "/trap/image.png": "skipped",
        "/trap/huge.html": "skipped",
        "/trap/broken.html": "ok",
        "/": "ok",  # the header link home
    }


def test_timeouts_and_server_errors_are_retried_then_tried_again_in_the_second_pass(
    site, trap_records
):
    for path, status in [
        ("/trap/slow.html?seconds=5", None),
        ("/trap/status/500.html", 500),
        ("/trap/status/503.html", 503),
        ("/trap/status/429.html", 429),
    ]:
        record = trap_records[path]
        assert (record.attempts, record.http_status) == (6, status), path  # 2 passes of 3
        assert record.error
        assert site.hits[path.split("?")[0]] == 6, path
    assert trap_records["/trap/status/404.html"].attempts == 1
    assert site.hits["/trap/status/404.html"] == 1  # final: no second pass


def test_flaky_page_is_recorded_ok_with_its_attempts(trap_records):
    record = trap_records["/trap/flaky/demo.html?fail=2"]
    assert (record.http_status, record.attempts) == (200, 3)
    assert "終於載入的文章" in record.title


def test_big5_page_is_stored_as_correct_traditional_chinese(trap_records):
    record = trap_records["/trap/big5.html"]
    assert BIG5_TEXT in record.html and record.title == "大五碼網頁"


def test_binary_and_huge_pages_are_skipped_with_a_reason(trap_records):
    assert "not HTML" in trap_records["/trap/binary.bin"].error
    assert "not HTML" in trap_records["/trap/image.png"].error
    assert "too large" in trap_records["/trap/huge.html"].error


def test_broken_html_is_still_an_ok_page_with_its_text(trap_records):
    record = trap_records["/trap/broken.html"]
    assert record.outcome == "ok" and record.error is None
    assert "最後一段" in record.html


def test_robots_disallowed_pages_are_recorded_but_never_requested(site, manifest):
    config = make_config({"start_urls": [site.url("/")], "max_depth": 1, "max_pages": 40})
    records = run(config)
    disallowed = {r.url for r in records if r.outcome == "disallowed"}
    assert disallowed == {site.url(p) for p in manifest.private_paths}
    assert not [path for path in site.hits if path.startswith(manifest.disallowed_prefix)]
    assert all(r.attempts == 0 and r.error for r in records if r.outcome == "disallowed")


def test_breadth_first_crawl_respects_max_pages_and_max_depth_and_fetches_each_url_once(site):
    before = Counter(site.hits)
    config = make_config(
        {"start_urls": [site.url("/list/03.html")], "max_depth": 2, "max_pages": 30}
    )
    records = run(config)
    assert len(records) == 30
    assert len({r.url for r in records}) == 30
    assert max(r.depth for r in records) <= 2
    assert [r.depth for r in records] == sorted(r.depth for r in records)
    fetched = Counter(site.hits) - before
    assert all(n == 1 for path, n in fetched.items() if path != "/robots.txt")


def test_max_depth_zero_crawls_only_the_start_urls(site):
    config = make_config({"start_urls": [site.url("/"), site.url("/list/01.html")], "max_depth": 0})
    records = run(config)
    assert [r.url for r in records] == [site.url("/"), site.url("/list/01.html")]


def test_plain_http_crawl_of_a_javascript_page_lacks_its_text(site, manifest):
    js_pages = [p for p in manifest.pages if p.render != "static"][:3]
    config = make_config({"start_urls": [site.url(p.path) for p in js_pages], "max_depth": 0})
    records = by_path(run(config), site.base_url)
    for page in js_pages:
        record = records[page.path]
        assert record.outcome == "ok" and not record.rendered
        assert article_text(record.html) == ""
        assert page.body.split("\n")[-1] not in record.html


def test_static_page_text_is_captured_over_plain_http(site, manifest):
    page = next(p for p in manifest.pages if p.render == "static")
    config = make_config({"start_urls": [site.url(page.path)], "max_depth": 0})
    (record,) = run(config)
    assert article_text(record.html) == page.body
    assert record.title == page.title


def test_unreachable_start_url_is_recorded_as_failed_without_raising():
    url = closed_port_url() + "news.html"
    records = run(make_config({"start_urls": [url], "max_retries": 1}))
    assert [(r.url, r.outcome) for r in records] == [(url, "failed")]
    assert "ConnectError" in records[0].error


def test_a_later_source_follows_links_of_pages_an_earlier_source_owns(site):
    config = make_config(
        {"start_urls": [site.url("/list/01.html")], "max_depth": 0},
        {"start_urls": [site.url("/list/01.html")], "max_depth": 1, "max_pages": 50},
    )
    records = run(config)
    urls = [r.url for r in records]
    assert len(urls) == len(set(urls))
    second = [r for r in records if r.source == "s1"]
    assert len(second) >= 20 and all(r.depth == 1 for r in second)


def test_every_request_is_paced_per_host(site):
    waits: list[tuple[str, float]] = []

    class RecordingLimiter(HostLimiter):
        def wait(self, host: str, delay: float) -> float:
            waits.append((host, delay))
            return 0.0

    before = sum(site.hits.values())
    config = make_config({"start_urls": [site.url("/list/05.html")], "max_pages": 8})
    config = config.model_copy(
        update={"sources": [config.sources[0].model_copy(update={"delay_seconds": 0.7})]}
    )
    run(config, limiter=RecordingLimiter())
    assert len(waits) == sum(site.hits.values()) - before
    assert set(waits) == {("127.0.0.1", 0.7)}


def test_progress_is_logged_with_counts_and_rate(site):
    messages: list[str] = []
    config = make_config({"start_urls": [site.url("/")], "max_depth": 1, "max_pages": 30})
    with fast_fetcher() as http:
        crawl(config, crawl_date=DAY, browser=None, http=http, log=messages.append)
    assert any(m.startswith("source s0: 25/") for m in messages)
    assert "source s0: 26/26 done (ok 23, failed 0, disallowed 3)" in messages[-1]
    assert messages[-1].endswith("pages/s")


def test_a_logging_logger_is_accepted_as_log(site, caplog):
    config = make_config({"start_urls": [site.url("/list/02.html")], "max_depth": 0})
    with caplog.at_level(logging.INFO, logger="crawl-test"), fast_fetcher() as http:
        crawl(config, crawl_date=DAY, browser=None, http=http, log=logging.getLogger("crawl-test"))
    assert "source s0: 1/1 done" in caplog.text


def test_javascript_source_without_a_browser_is_refused_up_front(site):
    config = make_config({"start_urls": [site.url("/")], "render_js": True})
    with pytest.raises(ValueError, match="no browser pool"):
        run(config)


def test_frame_has_the_raw_pages_schema_even_without_records():
    frame = records_to_frame([], DAY)
    assert tuple(frame.columns) == RAW_PAGES_COLUMNS
    assert str(frame["http_status"].dtype) == "Int64"
    assert str(frame["partition_date"].dtype) == "datetime64[ns]"


def test_frame_rows_carry_the_partition_date_hash_and_nullable_status():
    records = [
        PageRecord("http://h.tw/a", "s", "ok", 0, http_status=200, html="<p>甲</p>", attempts=1),
        PageRecord("http://h.tw/b", "s", "failed", 1, error="ConnectError", attempts=3),
    ]
    frame = records_to_frame(records, DAY)
    assert list(frame["partition_date"]) == [dt.datetime(2026, 11, 5)] * 2
    assert frame["http_status"].isna().tolist() == [False, True]
    assert frame.loc[0, "content_hash"] == content_hash("<p>甲</p>")
    assert frame["fetched_at"].dt.tz is None
    assert frame["attempts"].tolist() == [1, 3]
