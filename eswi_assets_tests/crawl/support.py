"""Helpers shared by the crawl tests: configs over a served demo site, fast fetchers, page text."""

from __future__ import annotations

import socket
from typing import Any

import lxml.html

from eswi_assets.crawl.config import CrawlConfig
from eswi_assets.crawl.fetchers import HttpFetcher


def make_config(*sources: dict[str, Any], user_agent: str = "eswi-test/1.0") -> CrawlConfig:
    """A config of sources on 127.0.0.1 with test-friendly defaults (no delay, short timeouts)."""
    defaults = {
        "allowed_domains": ["127.0.0.1"],
        "delay_seconds": 0,
        "request_timeout_s": 5,
        "max_retries": 2,
    }
    return CrawlConfig(
        user_agent=user_agent,
        sources=[{"name": f"s{i}", **defaults, **s} for i, s in enumerate(sources)],
    )


def fast_fetcher(**kwargs: Any) -> HttpFetcher:
    """Retries back off in milliseconds, so retry tests stay quick."""
    return HttpFetcher("eswi-test/1.0", backoff_initial_s=0.01, backoff_max_s=0.05, **kwargs)


def article_text(html: str) -> str:
    """The article's paragraphs as the manifest stores a body: one paragraph per line."""
    if not html.strip():
        return ""
    paragraphs = lxml.html.fromstring(html).xpath("//article//p")
    return "\n".join(p.text_content() for p in paragraphs)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def by_path(records: list, base_url: str) -> dict:
    return {r.url.removeprefix(base_url): r for r in records}
