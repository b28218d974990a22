"""Clients and IO managers on the session's Elasticsearch node (see the top-level conftest).

Each test gets its own index prefix, so tests never see each other's indices.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets_tests.stores import drop_prefixed


@pytest.fixture
def es(es_url: str) -> Iterator[Elasticsearch]:
    with Elasticsearch(es_url, request_timeout=60) as client:
        yield client


@pytest.fixture
def index_prefix(es: Elasticsearch) -> Iterator[str]:
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    yield prefix
    drop_prefixed(es, prefix)


@pytest.fixture
def make_io_manager(es_url: str, index_prefix: str) -> Callable[..., ElasticsearchIOManager]:
    """Small chunks (several bulk requests per run), short backoffs (fast tests), refresh
    paused for every load, overridable; `url` and `index_prefix` overrides go to the
    `elasticsearch` resource."""

    def make(**overrides: Any) -> ElasticsearchIOManager:
        cluster = {"url": es_url, "index_prefix": index_prefix}
        cluster |= {key: overrides.pop(key) for key in list(overrides) if key in cluster}
        config = {
            "chunk_size": 20,
            "initial_backoff": 0.01,
            "max_backoff": 0.05,
            "read_page_size": 7,
            "pause_refresh_from": 0,
        }
        elasticsearch = ElasticsearchResource(**cluster)
        return ElasticsearchIOManager(elasticsearch=elasticsearch, **(config | overrides))

    return make


@pytest.fixture
def io_manager(make_io_manager: Callable[..., ElasticsearchIOManager]) -> ElasticsearchIOManager:
    return make_io_manager()


HOP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection"}


class RejectingProxy:
    """An HTTP proxy in front of Elasticsearch that answers 429 to the first `reject` bulk
    requests (every one when `reject` is None) and forwards everything else; `bulk_bytes` holds
    the body size of every bulk request, `paths` the path of every request.
    """

    def __init__(self, target: str, reject: int | None) -> None:
        self.target, self.reject = target, reject
        self.bulk_requests = self.rejected = 0
        self.bulk_bytes: list[int] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _should_reject(self, path: str, size: int) -> bool:
        with self._lock:
            self.paths.append(path)
            if "/_bulk" not in path:
                return False
            self.bulk_requests += 1
            self.bulk_bytes.append(size)
            if self.reject is None or self.rejected < self.reject:
                self.rejected += 1
                return True
        return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if proxy._should_reject(self.path, len(body)):
                    status, headers = 429, {"content-type": "application/json"}
                    content = (
                        b'{"error":{"type":"es_rejected_execution_exception",'
                        b'"reason":"rejected execution (test storm)"},"status":429}'
                    )
                else:
                    forwarded = httpx.request(
                        self.command,
                        proxy.target + self.path,
                        content=body,
                        headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                        timeout=60,
                    )
                    status, content = forwarded.status_code, forwarded.content
                    headers = {
                        k: v for k, v in forwarded.headers.items() if k.lower() not in HOP_HEADERS
                    }
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> RejectingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def rejecting_proxy(es_url: str):
    """Factory: `with rejecting_proxy(reject=3) as proxy: ...` (`reject=0`: a recording proxy)."""
    return lambda reject: RejectingProxy(es_url, reject)
