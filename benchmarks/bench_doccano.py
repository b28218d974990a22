"""Push and pull throughput of `DoccanoResource` next to one plain sequential httpx loop, against
the same doccano server in the same run.

Starts its own doccano 1.8.4 on a free 127.0.0.1 port with scripts/doccano/ (install.sh builds
.venv-doccano first if needed), pushes N seed sentences into one project with the resource and
into another with the loop, labels and confirms every example of the first (not timed), then
pulls them with both. The loop does what the resource does, one request at a time.

    uv run python benchmarks/bench_doccano.py [--sentences 5000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx
import pandas as pd

from eswi_assets.labeling.seed import seed_labels
from eswi_assets.resources.doccano import DoccanoResource

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "doccano"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def doccano_server(password: str, workers: int, threads: int) -> Iterator[str]:
    subprocess.run(["bash", str(SCRIPTS / "install.sh")], check=True)
    with tempfile.TemporaryDirectory(prefix="bench-doccano-") as data:
        env = os.environ | {
            "ESWI_DOCCANO_PASSWORD": password,
            "ESWI_DOCCANO_WORKERS": str(workers),
            "ESWI_DOCCANO_THREADS": str(threads),
        }
        start = [str(SCRIPTS / "start.sh"), data, str(_free_port())]
        url = subprocess.run(
            ["bash", *start], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        try:
            yield url
        finally:
            subprocess.run(["bash", str(SCRIPTS / "stop.sh"), data], check=True)


def plain_client(url: str, password: str) -> httpx.Client:
    """The simplest client that works: token login, no cookies (a session cookie means CSRF)."""
    jar = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    client = httpx.Client(base_url=url, cookies=jar, timeout=60)
    login = client.post("/v1/auth/login/", json={"username": "admin", "password": password})
    client.headers["Authorization"] = f"Token {login.raise_for_status().json()['key']}"
    return client


def project_id(client: httpx.Client, name: str) -> int:
    projects = client.get("/v1/projects", params={"q": name}).raise_for_status().json()
    return next(p["id"] for p in projects["results"] if p["name"] == name)


def sequential_push(client: httpx.Client, project: int, sentences: pd.DataFrame) -> None:
    for row in sentences.itertuples(index=False):
        meta = {"sentence_id": row.sentence_id, "doc_id": None, "source": row.source}
        body = {"text": row.text, "meta": meta}
        client.post(f"/v1/projects/{project}/examples", json=body).raise_for_status()


def sequential_pull(client: httpx.Client, project: int) -> int:
    rows, offset = 0, 0
    users = client.get("/v1/users").raise_for_status().json()
    assert users
    while True:
        params = {"confirmed": "true", "limit": 1000, "offset": offset}
        page = client.get(f"/v1/projects/{project}/examples", params=params).raise_for_status()
        examples = page.json()["results"]
        for example in examples:
            path = f"/v1/projects/{project}/examples/{example['id']}/categories"
            rows += len(client.get(path).raise_for_status().json())
        offset += len(examples)
        if not page.json()["next"]:
            return rows


def label_and_confirm_all(client: httpx.Client, project: int, workers: int) -> None:
    examples, offset = [], 0
    while True:
        params = {"limit": 1000, "offset": offset}
        page = client.get(f"/v1/projects/{project}/examples", params=params).raise_for_status()
        examples += page.json()["results"]
        offset = len(examples)
        if not page.json()["next"]:
            break
    types = client.get(f"/v1/projects/{project}/category-types").raise_for_status().json()
    label_ids = [t["id"] for t in types if t["text"] in ("positive", "negative")]

    def annotate(example: dict) -> None:
        path = f"/v1/projects/{project}/examples/{example['id']}"
        label = label_ids[example["id"] % len(label_ids)]
        client.post(f"{path}/categories", json={"label": label}).raise_for_status()
        client.post(f"{path}/states", json={}).raise_for_status()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(annotate, examples))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = parser.parse_args()

    sentences = seed_labels(per_label=(args.sentences + 1) // 2).head(args.sentences)
    sentences = sentences.assign(source="seed")[["sentence_id", "text", "doc_id", "source"]]
    password = secrets.token_urlsafe(16)
    with doccano_server(password, args.workers, args.threads) as url:
        resource = DoccanoResource(
            url=url, password=password, project_name="bench-resource", concurrency=args.concurrency
        )
        loop_resource = resource.model_copy(update={"project_name": "bench-loop"})
        resource.pushed_sentence_ids()  # creates both projects: set-up is not what is timed
        loop_resource.pushed_sentence_ids()
        client = plain_client(url, password)
        loop_project = project_id(client, "bench-loop")

        loop_push_s, _ = timed(lambda: sequential_push(client, loop_project, sentences))
        push_s, report = timed(lambda: resource.push(sentences))
        assert report.pushed == len(sentences), report

        resource_project = project_id(client, "bench-resource")
        label_and_confirm_all(client, resource_project, args.concurrency)
        loop_pull_s, loop_rows = timed(lambda: sequential_pull(client, resource_project))
        pull_s, pulled = timed(resource.pull_confirmed)
        assert len(pulled) == loop_rows == len(sentences), (len(pulled), loop_rows)

    n = len(sentences)
    print(f"doccano at {url}: gunicorn {args.workers} workers x {args.threads} threads, SQLite")
    print(f"sentences: {n}, resource concurrency {args.concurrency}")
    print(f"push  sequential httpx loop : {loop_push_s:7.2f} s  {n / loop_push_s:8.1f} examples/s")
    print(f"push  DoccanoResource.push  : {push_s:7.2f} s  {n / push_s:8.1f} examples/s")
    print(f"pull  sequential httpx loop : {loop_pull_s:7.2f} s  {n / loop_pull_s:8.1f} examples/s")
    print(f"pull  pull_confirmed        : {pull_s:7.2f} s  {n / pull_s:8.1f} examples/s")
    print(f"speed-up push {loop_push_s / push_s:.2f}x, pull {loop_pull_s / pull_s:.2f}x")


if __name__ == "__main__":
    main()
