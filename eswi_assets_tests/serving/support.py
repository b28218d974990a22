"""Helpers for the serving tests: tiny saved models, a live uvicorn, a fake LINE API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import torch
import uvicorn
from fastapi import FastAPI
from transformers import GPT2Config, GPT2LMHeadModel

from eswi_assets.demo_site.corpus import simplified_reviews, to_traditional
from eswi_assets.stores.models import ModelArtifact, ModelStore
from eswi_assets.training.base import train_tokenizer


@cache
def texts() -> tuple[str, ...]:
    pool = simplified_reviews("positive")[:120] + simplified_reviews("negative")[:120]
    return tuple(to_traditional(text) for text in pool)


def save_tiny_model(store: ModelStore, asset: str, version: str, seed: int) -> None:
    """A random GPT-2 small enough to generate in milliseconds on a CPU.

    A larger init range than GPT-2's 0.02 makes the greedy continuation depend strongly on the
    prompt, and damping the tokens that are partial UTF-8 bytes keeps answers from collapsing
    into strings of "\ufffd", so tests can tell which prompt an answer was written for.
    """
    tokenizer = train_tokenizer(texts(), vocab_size=400)
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=192,
        n_embd=64,
        n_layer=2,
        n_head=2,
        initializer_range=0.2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    partial_bytes = [i for i in range(len(tokenizer)) if "\ufffd" in tokenizer.decode([i])]
    with torch.no_grad():
        model.get_input_embeddings().weight[partial_bytes] *= 0.1
    artifact = ModelArtifact(
        model=model,
        tokenizer=tokenizer,
        card=f"# tiny {asset} for tests\n",
        metrics={},
    )
    store.save(asset, version, artifact)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app: FastAPI, ready: bool = True) -> Iterator[str]:
    """The app on a real uvicorn in a thread; yields its base URL once it answers /readyz 200
    (or, with ready=False, once it answers at all)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                status = httpx.get(f"{url}/readyz", timeout=5).status_code
                if status == 200 or not ready:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the serving app did not become ready"
            time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict


REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
LOADING = "/v2/bot/chat/loading/start"


def _opened() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


@dataclass
class FakeLine:
    """Records every request to the "LINE API" as it arrives and answers like LINE does: 200, or
    `status` while `failing(status)`; while `holding()` it keeps every request open unanswered,
    as a LINE that takes its time would."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200
    open_now: int = 0
    answered: int = 0
    gate: threading.Event = field(default_factory=_opened)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def holding(self) -> Iterator[None]:
        self.gate.clear()
        try:
            yield
        finally:
            self.gate.set()

    @contextmanager
    def failing(self, status: int) -> Iterator[None]:
        self.status = status
        try:
            yield
        finally:
            self.status = 200

    def wait_until(self, condition, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"LINE saw {len(self.requests)} requests"
            time.sleep(0.02)

    def to(self, path: str, **body) -> list[Recorded]:
        """Requests to `path` whose body has the given top-level values."""
        return [
            r
            for r in list(self.requests)
            if r.path == path and all(r.body.get(k) == v for k, v in body.items())
        ]

    def wait_for(self, path: str, timeout: float = 60, **body) -> Recorded:
        """The first request to `path` with these body values, once it has arrived."""
        self.wait_until(lambda: self.to(path, **body), timeout)
        return self.to(path, **body)[0]

    def reply_to(self, reply_token: str) -> Recorded:
        return self.wait_for(REPLY, replyToken=reply_token)


@contextmanager
def fake_line_api() -> Iterator[FakeLine]:
    fake = FakeLine(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with fake.lock:
                fake.requests.append(Recorded(self.path, dict(self.headers), json.loads(body)))
                fake.open_now += 1
            fake.gate.wait(timeout=120)
            status = fake.status
            if status != 200:
                answer = {"message": "fake LINE says no"}
            elif self.path == LOADING:
                answer = {}
            else:
                answer = {"sentMessages": [{"id": "1", "quoteToken": "q"}]}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with fake.lock:
                fake.open_now -= 1
                fake.answered += 1

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.gate.set()
        server.shutdown()
        server.server_close()


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include `labels` (0 when there is none yet)."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


class _Records(logging.Handler):
    def __init__(self, records: list[logging.LogRecord], level: int) -> None:
        super().__init__(level=level)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def logged_errors(level: int = logging.ERROR) -> Iterator[list[logging.LogRecord]]:
    """Records from `level` up of uvicorn (whose loggers do not propagate) and of the app while
    the block runs; "Exception in ASGI application" is how uvicorn reports a server error."""
    records: list[logging.LogRecord] = []
    handler = _Records(records, level)
    loggers = [logging.getLogger("uvicorn.error"), logging.getLogger("eswi_assets")]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(min(logger.getEffectiveLevel(), level))
    try:
        yield records
    finally:
        for logger, old in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(old)
