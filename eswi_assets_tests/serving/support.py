"""Helpers for the serving tests: tiny saved models, a live uvicorn, a fake LINE API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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


@dataclass
class FakeLine:
    """Records every request to the "LINE API" and answers like the reply endpoint does."""

    url: str
    requests: list[Recorded] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 60) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} LINE calls, not {count}"
            time.sleep(0.05)
        return self.requests


@contextmanager
def fake_line_api() -> Iterator[FakeLine]:
    fake = FakeLine(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            fake.requests.append(Recorded(self.path, dict(self.headers), json.loads(body)))
            answer = json.dumps({"sentMessages": [{"id": "1", "quoteToken": "q"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
