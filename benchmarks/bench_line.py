"""The LINE webhook under load, with a fake LINE API that takes 1 s to answer every call, next to
the old code path measured in the same run.

A tiny GPT-2 (as in bench_serving.py) is saved to a fresh model store and the real service is
started twice on it: once as it is ("async": the SDK's aiohttp client with deadlines, events of a
delivery handled concurrently, the loading animation in one-on-one chats) and once with the old
code path patched in ("threadpool": the blocking `MessagingApi` run in the thread pool that
health checks share, no deadline, events one after another, no loading animation). Each is
driven in turn by 10 and 100 clients, each sending a signed one-message delivery from its own
user and the next once LINE has answered the bot's reply. Meanwhile /healthz and /metrics are
polled.

    uv run python benchmarks/bench_line.py [--rounds 3]

Reply latency runs from sending the delivery to the reply reaching the fake LINE; in the async
mode it includes the 1 s the fake takes for the loading animation, which the reply waits for
(real LINE answers it in milliseconds). events/s counts replies LINE has answered per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_serving import TORCH_THREADS, free_port, save_model, wait_ready

SECRET, TOKEN = "bench-channel-secret", "bench-access-token"
LINE_SECONDS = 1.0
CONCURRENCY = (10, 100)
MODES = ("async", "threadpool")
# /healthz answers on the event loop (in both modes); /metrics, like every sync endpoint and the
# generate path's SQLite writes, needs a thread of the pool the old client filled.
CHECKS = ("/healthz", "/metrics")


class ThreadpoolLineClient:
    """The old code path: the SDK's blocking client in the shared thread pool, no deadline."""

    def __init__(self, access_token: str, base_url: str, *args: object) -> None:
        from linebot.v3.messaging import ApiClient, Configuration, MessagingApi

        self._client = ApiClient(Configuration(access_token=access_token))
        self._api = MessagingApi(self._client)
        self._api.line_base_path = base_url.rstrip("/")

    async def close(self) -> None:
        self._client.close()

    async def reply(self, reply_token: str, messages: list) -> bool:
        from linebot.v3.messaging import ApiException, ReplyMessageRequest
        from starlette.concurrency import run_in_threadpool

        request = ReplyMessageRequest(reply_token=reply_token, messages=messages)
        try:
            await run_in_threadpool(self._api.reply_message, request)
        except ApiException:
            return False
        return True

    async def push(self, to: str, messages: list) -> bool:
        raise AssertionError("the old bot never pushed")

    async def show_loading(self, chat_id: str, seconds: int) -> bool:
        return True  # the old bot showed none


def serve(mode: str) -> None:
    """Run in the server subprocess: the service, with the old code path patched in if asked."""
    import uvicorn

    from eswi_assets.serving import app
    from eswi_assets.serving.line import LineBot
    from eswi_assets.serving.settings import ServingSettings

    if mode == "threadpool":

        async def one_after_another(self: LineBot, events: list) -> None:
            for event in events:
                await self._handle_one(event)

        app.LineClient = ThreadpoolLineClient
        LineBot.handle = one_after_another
    serving = ServingSettings()
    uvicorn.run(app.create_app(serving=serving), host=serving.host, port=serving.port)


class FakeLine:
    """Answers every call after LINE_SECONDS; resolves the future waiting for a reply token."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: dict[str, tuple[asyncio.Future, asyncio.Future]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as LINE's API

            def do_POST(self) -> None:
                arrived = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                futures = fake.waiting.get(body.get("replyToken", ""))
                if futures:
                    fake.resolve(futures[0], arrived)
                time.sleep(LINE_SECONDS)
                answer = b'{"sentMessages": [{"id": "1", "quoteToken": "q"}]}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                if futures:
                    fake.resolve(futures[1], time.perf_counter())

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def resolve(self, future: asyncio.Future, value: float) -> None:
        def set_result() -> None:
            if not future.done():
                future.set_result(value)

        assert self.loop is not None
        self.loop.call_soon_threadsafe(set_result)


def start_server(data_dir: Path, mode: str, line_url: str) -> tuple[subprocess.Popen, str]:
    """Started, not yet ready: `wait_ready` it (both start side by side)."""
    port = free_port()
    env = os.environ | {
        "ESWI_DATA_DIR": str(data_dir),
        "ESWI_SERVING_PORT": str(port),
        "ESWI_SERVING_CANDIDATE_SHARE": "1",
        "ESWI_SERVING_MAX_WAIT_MS": "5",
        "ESWI_SERVING_MAX_QUEUE": "4096",
        "ESWI_SERVING_RELOAD_POLL_SECONDS": "0",
        "ESWI_SERVING_TORCH_THREADS": str(TORCH_THREADS),
        "ESWI_SERVING_DB_PATH": str(data_dir / f"serving-{mode}.sqlite"),
        "ESWI_SERVING_LINE_CHANNEL_SECRET": SECRET,
        "ESWI_SERVING_LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "ESWI_SERVING_LINE_API_BASE_URL": line_url,
        "ESWI_SERVING_LINE_MAX_NEW_TOKENS": "8",
        "HF_HUB_OFFLINE": "1",
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}"


def delivery(user: str, text: str) -> tuple[str, bytes]:
    token = uuid.uuid4().hex
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": token,
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text},
    }
    return token, json.dumps({"destination": "U", "events": [event]}).encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(url: str, line: FakeLine, clients: int, rounds: int) -> dict[str, float]:
    line.loop = asyncio.get_running_loop()
    latencies: list[float] = []
    checks: dict[str, list[float]] = {path: [] for path in CHECKS}
    done = asyncio.Event()

    async def client(http: httpx.AsyncClient, worker: int) -> None:
        for i in range(rounds):
            token, body = delivery(f"Ubench{worker:027x}", f"第{i}篇：社區活動心得")
            arrived, answered = line.loop.create_future(), line.loop.create_future()
            line.waiting[token] = (arrived, answered)
            started = time.perf_counter()
            signature = base64.b64encode(
                hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
            ).decode()
            response = await http.post(
                "/line/webhook", content=body, headers={"x-line-signature": signature}
            )
            response.raise_for_status()
            latencies.append(await arrived - started)
            await answered

    async def poll(http: httpx.AsyncClient, path: str) -> None:
        while not done.is_set():
            started = time.perf_counter()
            (await http.get(path)).raise_for_status()
            checks[path].append(time.perf_counter() - started)
            await asyncio.sleep(0.05)

    limits = httpx.Limits(max_connections=clients + 8)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        pollers = [asyncio.create_task(poll(http, path)) for path in CHECKS]
        started = time.perf_counter()
        await asyncio.gather(*(client(http, w) for w in range(clients)))
        wall = time.perf_counter() - started
        done.set()
        await asyncio.gather(*pollers)
    figures = {
        "events_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
    for path, seconds in checks.items():
        figures[f"{path} p50_ms"] = statistics.median(seconds) * 1000
        figures[f"{path} p99_ms"] = percentile(seconds, 0.99) * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="deliveries per client")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    line = FakeLine()
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="eswi-bench-line-") as tmp:
        data_dir = Path(tmp) / "data"
        save_model(data_dir)
        servers = {mode: start_server(data_dir, mode, line.url) for mode in MODES}
        try:
            for server, url in servers.values():
                wait_ready(server, url)
            for clients in CONCURRENCY:  # modes alternate, so drifting machine load hits both
                for mode, (_, url) in servers.items():
                    results[mode, clients] = asyncio.run(drive(url, line, clients, args.rounds))
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=30)
            line.server.shutdown()

    print(
        f"fake LINE answers every call in {LINE_SECONDS:.0f} s; {args.rounds} one-message "
        f"deliveries per client; tiny GPT-2, 8 new tokens, torch threads {TORCH_THREADS}\n"
    )
    header = (
        f"{'mode':<11} {'clients':>7} {'events/s':>9} {'reply p50':>10} {'reply p99':>10}"
        + "".join(f" {path + ' ' + q:>15}" for path in CHECKS for q in ("p50", "p99"))
    )
    print(header + "\n" + "-" * len(header))
    for (mode, clients), r in results.items():
        print(
            f"{mode:<11} {clients:>7} {r['events_per_s']:>9.1f} {r['p50_ms']:>8.0f}ms "
            f"{r['p99_ms']:>8.0f}ms"
            + "".join(f" {r[f'{path} {q}_ms']:>13.1f}ms" for path in CHECKS for q in ("p50", "p99"))
        )
    print("\nasync / threadpool")
    for clients in CONCURRENCY:
        new, old = results["async", clients], results["threadpool", clients]
        ratios = [
            f"events/s x{new['events_per_s'] / old['events_per_s']:.2f}",
            f"reply p50 x{new['p50_ms'] / old['p50_ms']:.2f}",
            f"reply p99 x{new['p99_ms'] / old['p99_ms']:.2f}",
        ] + [f"{path} p99 x{new[f'{path} p99_ms'] / old[f'{path} p99_ms']:.2f}" for path in CHECKS]
        print(f"  {clients:>3} clients: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
