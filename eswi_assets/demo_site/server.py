"""Serve a generated demo site on 127.0.0.1 with trap routes, counting every path requested.

With `faults`, a seeded share of requests fails first (5xx, 429 or a reset connection).
"""

from __future__ import annotations

import collections
import functools
import socket
import struct
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from eswi_assets.demo_site.faults import Faults
from eswi_assets.demo_site.traps import Reply, status_reply, trap_reply


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, skipped huge pages) are expected, not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
        ".json": "application/json; charset=utf-8",
    }

    def __init__(self, *args: Any, site: DemoSite, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, directory=str(site.root), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a crawl of hundreds of pages must not flood stderr."""

    def list_directory(self, path: str | Any) -> None:
        self.send_error(404)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        self.site._record(url.path)
        fault = self.site.faults.draw() if self.site.faults is not None else None
        if fault == "reset":
            self._reset()
            return
        if fault is not None:
            self._send(status_reply(int(fault)), send_body=send_body)
            return
        reply = trap_reply(url.path, url.query, self.site._flaky_attempt)
        if reply is not None:
            self._send(reply, send_body=send_body)
        elif send_body:
            super().do_GET()
        else:
            super().do_HEAD()

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, the way an overloaded proxy does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _send(self, reply: Reply, *, send_body: bool) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.length))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            for chunk in reply.chunks:
                self.wfile.write(chunk)


class DemoSite:
    """A running demo site; use as a context manager. `hits` counts requested paths."""

    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        self.root = Path(root)
        self.faults = faults
        self.hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._flaky: collections.Counter[str] = collections.Counter()
        self._server = _QuietServer((host, port), functools.partial(_Handler, site=self))
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-site", daemon=True
        )

    def _record(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def _flaky_attempt(self, key: str) -> int:
        with self._lock:
            self._flaky[key] += 1
            return self._flaky[key]

    def url(self, path: str) -> str:
        """Absolute URL of a site path such as "/articles/0007.html"."""
        return self.base_url + path

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve(
    root: Path, *, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
) -> DemoSite:
    """Bind a server for the site under root (port 0 picks a free port); start it with `with`."""
    return DemoSite(root, host=host, port=port, faults=faults)
