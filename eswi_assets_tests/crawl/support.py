"""Helpers shared by the crawl tests: configs over a served demo site, fast fetchers, page text,
and a scripted 127.0.0.1 server for answers the demo site does not give."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


Route = Callable[[str, int], tuple[int, dict[str, str], bytes]]


class RouteServer:
    """A real HTTP server on 127.0.0.1 whose answers come from `route(path, n)`, where n counts
    the requests for that path (1 on the first); `hits` counts requests per path."""

    def __init__(self, route: Route) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    n = server.hits[self.path]
                status, headers, body = route(self.path, n)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                with suppress(ConnectionError):
                    self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> RouteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
