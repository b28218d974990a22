"""The crawl config: the shipped file loads, and every kind of mistake is named before a crawl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eswi_assets.crawl.config import CrawlConfigError, host_allowed, load_crawl_config
from eswi_assets.settings import Settings

VALID_SOURCE = """
  - name: news
    start_urls: ["https://news.example.tw/archive/{date}.html"]
    allowed_domains: ["example.tw"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_demo_sources_hold_a_rendered_and_a_plain_source_over_the_demo_site():
    config = load_crawl_config(Settings().crawl_sources)
    assert {s.render_js for s in config.sources} == {True, False}
    for source in config.sources:
        assert all(url.startswith("http://127.0.0.1:8765/") for url in source.start_urls)
        assert source.max_pages >= 1 and source.max_bytes == 5_000_000


def test_date_placeholder_in_start_urls_is_filled_with_the_iso_crawl_date(tmp_path):
    config = load_crawl_config(write(tmp_path, "sources:" + VALID_SOURCE))
    urls = config.sources[0].start_urls_for(dt.date(2026, 11, 3))
    assert urls == ["https://news.example.tw/archive/2026-11-03.html"]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.tw", True),
        ("news.example.tw", True),
        ("NEWS.Example.TW", True),
        ("badexample.tw", False),
        ("example.tw.evil.com", False),
    ],
)
def test_allowed_domains_cover_the_domain_and_its_subdomains_only(host, allowed):
    assert host_allowed(host, ["example.tw"]) is allowed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n  - name: x", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("user_agent: bot\n", "sources"),
        ("sources:" + VALID_SOURCE + "    max_page: 3\n", "sources.0.max_page"),
        ("sources:" + VALID_SOURCE + "    max_pages: -1\n", "sources.0.max_pages"),
        ("sources:" + VALID_SOURCE + "    max_depth: -2\n", "sources.0.max_depth"),
        ("sources:" + VALID_SOURCE + "    delay_seconds: -0.5\n", "sources.0.delay_seconds"),
        ("sources:" + VALID_SOURCE + "    render_js: perhaps\n", "sources.0.render_js"),
        ("sources:" + VALID_SOURCE + "    request_timeout_s: 0\n", "request_timeout_s"),
        ("sources:" + VALID_SOURCE + VALID_SOURCE, "duplicate source names: news"),
        (
            "sources:" + VALID_SOURCE.replace('example.tw"]', 'other.tw"]'),
            "outside allowed_domains",
        ),
        ("sources:" + VALID_SOURCE.replace("https://", "ftp://"), "not an absolute http(s) URL"),
        ("sources:" + VALID_SOURCE.replace('["example.tw"]', "[]"), "allowed_domains"),
        ("sources: []\n", "sources"),
        ("sources:" + VALID_SOURCE + "colour: blue\n", "colour"),
    ],
    ids=[
        "malformed-yaml",
        "not-a-mapping",
        "no-sources",
        "unknown-source-key",
        "negative-max-pages",
        "negative-max-depth",
        "negative-delay",
        "non-bool-render-js",
        "zero-timeout",
        "duplicate-names",
        "start-url-outside-domains",
        "non-http-start-url",
        "no-allowed-domains",
        "empty-sources",
        "unknown-top-level-key",
    ],
)
def test_malformed_config_raises_config_error_naming_file_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(CrawlConfigError) as raised:
        load_crawl_config(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


def test_missing_config_file_raises_config_error_naming_it(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CrawlConfigError, match=r"nope\.yaml"):
        load_crawl_config(missing)
