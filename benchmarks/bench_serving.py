"""Throughput and latency of the serving app with batching on and off, in the same run.

A tiny GPT-2 (the pipeline's default from-config model, untrained) is saved to a fresh local
model store; the real service (`python -m eswi_assets.serving`) is started twice on it, once
with continuous batching (up to 32 running requests) and once one request at a time (1),
and each is driven in turn by 1, 8 and 32 concurrent clients sending greedy generate requests.

    uv run python benchmarks/bench_serving.py [--requests 96] [--max-new-tokens 32]

The clients run in this process and share the CPU with the server, as a co-located load
generator would; both modes pay that cost alike, so the ratios are what batching buys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

from eswi_assets.demo_site.corpus import simplified_reviews, to_traditional
from eswi_assets.stores.models import LocalModelStore, ModelArtifact
from eswi_assets.training.base import ModelShape, base_model

CONCURRENCY = (1, 8, 32)
MODES = {"batched": 32, "one-at-a-time": 1}
# One intra-op thread: on a CPU shared with the load generator (and, on CI, other jobs),
# torch's default of one thread per core spins and makes a lone request ~20x slower.
TORCH_THREADS = 1


def save_model(data_dir: Path) -> None:
    texts = [to_traditional(t) for t in simplified_reviews("positive")[:400]]
    torch.manual_seed(0)
    model, tokenizer = base_model(None, texts, ModelShape())
    store = LocalModelStore(base_dir=str(data_dir / "models"))
    store.save("ppo_model", "bench", ModelArtifact(model, tokenizer, "# bench model\n", {}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, max_batch_size: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "ESWI_DATA_DIR": str(data_dir),
        "ESWI_SERVING_PORT": str(port),
        "ESWI_SERVING_CANDIDATE_SHARE": "1",
        "ESWI_SERVING_MAX_BATCH_SIZE": str(max_batch_size),
        "ESWI_SERVING_MAX_WAIT_MS": "5",
        "ESWI_SERVING_MAX_QUEUE": "4096",
        "ESWI_SERVING_GENERATE_PER_MINUTE": "0",  # measures throughput, not the per-user limit
        "ESWI_SERVING_RELOAD_POLL_SECONDS": "0",
        "ESWI_SERVING_TORCH_THREADS": str(TORCH_THREADS),
        "HF_HUB_OFFLINE": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "eswi_assets.serving"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(server, url)
    return server, url


def wait_ready(server: subprocess.Popen, url: str, timeout_s: float = 300) -> None:
    """Until the service answers /readyz 200; kills it and raises if it exits or takes longer."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the service did not start (exit code {server.returncode})")
        time.sleep(0.2)


async def drive(url: str, clients: int, requests: int, max_new_tokens: int) -> dict[str, float]:
    latencies: list[float] = []
    tokens = 0
    counter = iter(range(requests))

    async def client(http: httpx.AsyncClient, worker: int) -> None:
        nonlocal tokens
        for i in counter:
            body = {
                "prompt": f"第{i}篇：社區活動心得",
                "user_id": f"bench-{worker}",
                "temperature": 0,
                "max_new_tokens": max_new_tokens,
            }
            started = time.perf_counter()
            response = await http.post("/v1/generate", json=body)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            tokens += response.json()["completion_tokens"]

    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        await asyncio.gather(*(client(http, w) for w in range(min(clients, 2))))  # warm up
        latencies.clear()
        tokens = 0
        counter = iter(range(requests))
        started = time.perf_counter()
        await asyncio.gather(*(client(http, w) for w in range(clients)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "req_per_s": len(ordered) / wall,
        "tokens_per_s": tokens / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=96, help="per concurrency level")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()

    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="eswi-bench-serving-") as tmp:
        data_dir = Path(tmp) / "data"
        save_model(data_dir)
        servers = {mode: start_server(data_dir, size) for mode, size in MODES.items()}
        try:
            for clients in CONCURRENCY:  # modes alternate, so drifting machine load hits both
                for mode, (_, url) in servers.items():
                    requests = max(args.requests, 2 * clients)
                    results[mode, clients] = asyncio.run(
                        drive(url, clients, requests, args.max_new_tokens)
                    )
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=30)

    print(
        f"tiny GPT-2 ({ModelShape().n_layer} layers, {ModelShape().n_embd} dims) on "
        f"CPU, torch threads {TORCH_THREADS}, {args.requests} greedy requests of "
        f"{args.max_new_tokens} new tokens per level\n"
    )
    header = f"{'mode':<14} {'clients':>7} {'req/s':>8} {'tokens/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for (mode, clients), r in sorted(results.items(), key=lambda item: item[0][0] != "batched"):
        print(
            f"{mode:<14} {clients:>7} {r['req_per_s']:>8.1f} {r['tokens_per_s']:>9.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )
    print("\nbatched / one-at-a-time")
    for clients in CONCURRENCY:
        batched, single = results["batched", clients], results["one-at-a-time", clients]
        print(
            f"  {clients:>2} clients: throughput x{batched['req_per_s'] / single['req_per_s']:.2f}"
            f", p50 latency x{batched['p50_ms'] / single['p50_ms']:.2f}"
            f", p99 latency x{batched['p99_ms'] / single['p99_ms']:.2f}"
        )


if __name__ == "__main__":
    main()
