"""The HTTP fetcher against the demo site's traps: retries, give-ups, size and type limits, Big5."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from eswi_assets.crawl.decoding import decode_html
from eswi_assets.crawl.fetchers import HttpFetcher, parse_retry_after
from eswi_assets.demo_site.traps import BIG5_TEXT
from eswi_assets_tests.crawl.support import closed_port_url, fast_fetcher


@pytest.fixture
def http():
    with fast_fetcher() as fetcher:
        yield fetcher


def test_500_is_retried_then_recorded_as_failed_with_every_attempt_counted(site, http):
    result = http.fetch(site.url("/trap/status/500.html"), max_retries=2)
    assert (result.outcome, result.http_status, result.attempts) == ("failed", 500, 3)
    assert "HTTP 500" in result.error
    assert site.hits["/trap/status/500.html"] == 3


def test_404_is_final_and_never_retried(site, http):
    result = http.fetch(site.url("/trap/status/404.html"), max_retries=3)
    assert (result.outcome, result.http_status, result.attempts) == ("failed", 404, 1)
    assert site.hits["/trap/status/404.html"] == 1


def test_429_is_retried_after_the_servers_retry_after(site):
    sleeps: list[float] = []
    with fast_fetcher(sleep=sleeps.append) as http:
        result = http.fetch(site.url("/trap/status/429.html"), max_retries=2)
    assert (result.outcome, result.http_status, result.attempts) == ("failed", 429, 3)
    assert site.hits["/trap/status/429.html"] == 3
    assert sleeps == [0.0, 0.0]  # the demo site says Retry-After: 0


def test_flaky_page_recovers_after_failing_twice(site, http):
    result = http.fetch(site.url("/trap/flaky/fetcher.html?fail=2"), max_retries=3)
    assert (result.outcome, result.http_status, result.attempts) == ("ok", 200, 3)
    assert "終於載入的文章" in result.text
    assert site.hits["/trap/flaky/fetcher.html"] == 3


def test_timeout_is_retried_then_recorded_as_failed(site, http):
    result = http.fetch(site.url("/trap/slow.html?seconds=3"), timeout_s=0.3, max_retries=1)
    assert (result.outcome, result.http_status, result.attempts) == ("failed", None, 2)
    assert "Timeout" in result.error
    assert site.hits["/trap/slow.html"] == 2


def test_unreachable_host_is_a_failure_not_an_exception(http):
    result = http.fetch(closed_port_url(), max_retries=1)
    assert (result.outcome, result.attempts) == ("failed", 2)
    assert "ConnectError" in result.error


def test_big5_page_is_decoded_to_traditional_chinese(site, http):
    result = http.fetch(site.url("/trap/big5.html"))
    assert result.outcome == "ok"
    assert BIG5_TEXT in result.text
    assert "大五碼網頁" in result.text


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/trap/binary.bin", "not HTML: application/octet-stream"),
        ("/trap/image.png", "not HTML: image/png"),
        ("/trap/huge.html", "too large"),
    ],
)
def test_binary_and_huge_responses_are_skipped_with_a_reason(site, http, path, reason):
    result = http.fetch(site.url(path))
    assert (result.outcome, result.http_status, result.text) == ("skipped", 200, "")
    assert reason in result.error


def test_body_without_content_length_is_cut_off_at_max_bytes_without_reading_the_rest():
    sent = []

    def endless():
        for _ in range(1000):
            sent.append(1)
            yield b"<p>" + b"x" * 1021

    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, headers={"Content-Type": "text/html"}, content=endless()
        )
    )
    with fast_fetcher(transport=transport) as http:
        result = http.fetch("http://h.tw/stream.html", max_bytes=10_000)
    assert result.outcome == "skipped" and "more than max_bytes 10000" in result.error
    assert len(sent) < 20


def test_retry_after_is_capped_so_a_server_cannot_stall_the_crawl():
    replies = iter([httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200)])
    sleeps: list[float] = []
    with fast_fetcher(
        transport=httpx.MockTransport(lambda request: next(replies)),
        retry_after_cap_s=30,
        sleep=sleeps.append,
    ) as http:
        result = http.fetch("http://h.tw/", max_retries=2)
    assert (result.outcome, result.attempts) == ("ok", 2)
    assert sleeps == [30]


def test_backoff_grows_between_attempts_when_the_server_gives_no_retry_after():
    sleeps: list[float] = []
    with HttpFetcher(
        backoff_initial_s=1.0,
        backoff_max_s=60.0,
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
        sleep=sleeps.append,
    ) as http:
        result = http.fetch("http://h.tw/", max_retries=3)
    assert (result.outcome, result.http_status, result.attempts) == ("failed", 503, 4)
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]


def test_pace_runs_before_every_attempt(site, http):
    paced: list[str] = []
    url = site.url("/trap/status/503.html")
    http.fetch(url, max_retries=2, pace=paced.append)
    assert paced == [url] * 3


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0)],
)
def test_retry_after_header_is_read_as_seconds_or_http_date(value, seconds):
    now = dt.datetime(2015, 10, 21, 7, 28, 0, tzinfo=dt.UTC)
    assert parse_retry_after(value, now) == seconds


def test_charset_comes_from_header_then_meta_then_detection():
    text = "繁體中文的網頁內容，用來確認字元編碼的判斷順序是否正確。" * 4
    big5 = f"<html><body><p>{text}</p></body></html>".encode("big5")
    meta = f'<html><head><meta charset="big5"></head><body>{text}</body></html>'.encode("big5")
    assert text in decode_html(big5, "text/html; charset=big5")
    assert text in decode_html(meta, "text/html")
    assert text in decode_html(big5, None)
    assert text in decode_html(text.encode("utf-8"), "text/html; charset=nonsense")
