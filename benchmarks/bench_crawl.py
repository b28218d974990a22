"""Crawl throughput and fault tolerance on the demo site, side by side with Scrapy.

    .venv/bin/python benchmarks/bench_crawl.py [--concurrency N] [--repeats R] [--drivers K]

Needs the dev-only `bench` dependency group (Scrapy). Builds the demo site and serves it from
its own process on 127.0.0.1, so neither crawler shares an interpreter with the server. Each
crawl runs in a fresh child process, alternating ours and Scrapy's: same start URL, depth 4,
400-page guard, robots.txt obeyed, no politeness delay, 3 retries, N requests at a time.
Reports, as medians over the repeats:

- in-crawl pages/s (ours: the `crawl()` call; Scrapy: spider opened to last response) and
  wall-clock pages/s (child process start to exit, interpreter and imports included), and the
  ratios ours/Scrapy;
- the rendered crawl's pages/s per Chromium driver (K drivers, K workers);
- pages lost and duplicated by ours, plain and rendered, behind 20% injected faults (500, 503,
  429, reset connections), against the same crawl of the fault-free site.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Children and the server import this checkout's code, whatever the environment installed.
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
USER_AGENT = "eswi-crawler/0.1"
MAX_DEPTH, MAX_PAGES, MAX_RETRIES, TIMEOUT_S = 4, 400, 3, 10
CHILD_LIMIT_S = 600  # a child past this is reported as hung, not waited for


def child_ours(base: str, concurrency: int, drivers: int) -> dict[str, Any]:
    """Our crawl in this process: what the `raw_pages` asset's run imports and does."""
    import datetime as dt

    from eswi_assets.crawl.config import CrawlConfig
    from eswi_assets.crawl.crawler import crawl
    from eswi_assets.crawl.fetchers import HttpFetcher

    source = {
        "name": "bench",
        "start_urls": [base + "/"],
        "allowed_domains": ["127.0.0.1"],
        "max_depth": MAX_DEPTH,
        "max_pages": MAX_PAGES,
        "delay_seconds": 0,
        "max_retries": MAX_RETRIES,
        "request_timeout_s": TIMEOUT_S,
        "render_js": drivers > 0,
        "wait_for": "article, ul.articles",
        "render_timeout_s": 10,
        "page_load_timeout_s": 20,
    }
    config = CrawlConfig(user_agent=USER_AGENT, sources=[source])
    pool = None
    if drivers:
        from eswi_assets.crawl.browser import BrowserPool

        pool = BrowserPool(size=drivers)
    started = time.perf_counter()
    try:
        with HttpFetcher(USER_AGENT) as http:
            records = crawl(
                config,
                crawl_date=dt.date.today(),
                browser=pool,
                http=http,
                log=lambda message: None,
                workers=drivers or concurrency,
            )
    finally:
        if pool is not None:
            pool.close()
    seconds = time.perf_counter() - started
    ok = [r.url for r in records if r.outcome == "ok"]
    return {"seconds": seconds, "ok": ok, "rows": [r.url for r in records]}


def child_scrapy(base: str, concurrency: int) -> dict[str, Any]:
    """Scrapy with the same limits; every fetched page's links followed, as ours does."""
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    ok: list[str] = []
    times: dict[str, float] = {}

    class Site(scrapy.Spider):
        name = "bench"
        allowed_domains = ("127.0.0.1",)
        start_urls = (base + "/",)

        def parse(self, response: Any) -> Any:
            ok.append(response.url)
            times["last"] = time.perf_counter()
            yield from response.follow_all(css="a", callback=self.parse)

    settings = {
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "DEPTH_LIMIT": MAX_DEPTH,
        "CLOSESPIDER_PAGECOUNT": MAX_PAGES,
        "RETRY_TIMES": MAX_RETRIES,
        "DOWNLOAD_TIMEOUT": TIMEOUT_S,
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_INSTALL_ROOT_HANDLER": False,
    }
    process = CrawlerProcess(settings=settings)
    crawler = process.create_crawler(Site)

    def opened(spider: Any) -> None:
        times["open"] = time.perf_counter()

    crawler.signals.connect(opened, signal=signals.spider_opened)
    process.crawl(crawler)
    process.start()
    return {"seconds": times["last"] - times["open"], "ok": ok, "rows": ok}


def run_child(kind: str, base: str, concurrency: int, drivers: int = 0) -> dict[str, Any]:
    """One crawl in a fresh interpreter; adds its wall-clock seconds, start-up included."""
    command = [sys.executable, __file__, "--child", kind, "--base", base]
    command += ["--concurrency", str(concurrency), "--drivers", str(drivers)]
    started = time.perf_counter()
    # its own process group, so a hung child goes with its Chromium and chromedriver
    child = subprocess.Popen(
        command, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, _ = child.communicate(timeout=CHILD_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    wall = time.perf_counter() - started
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    result = {**json.loads(stdout.strip().splitlines()[-1]), "wall": wall}
    mode = f"{kind}, {drivers} drivers" if drivers else kind
    print(
        f"  {mode}: {len(set(result['ok']))} pages, {result['seconds']:.2f} s in crawl, "
        f"{wall:.2f} s wall",
        file=sys.stderr,
        flush=True,
    )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(site_dir: Path, fault_rate: float = 0.0):
    """The demo site in its own process; yields its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "eswi_assets.demo_site", "serve", "--dir", str(site_dir)]
    command += ["--port", str(port), "--fault-rate", str(fault_rate), "--fault-seed", "16"]
    server = subprocess.Popen(command, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/robots.txt", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait()


def paths(urls: list[str], base: str) -> list[str]:
    return [url.removeprefix(base) for url in urls]


def fault_check(clean: dict[str, Any], noisy: dict[str, Any], base: str, clean_base: str) -> str:
    expected = set(paths(clean["ok"], clean_base))
    got = paths(noisy["ok"], base)
    lost = len(expected - set(got))
    duplicated = len(noisy["rows"]) - len(set(noisy["rows"]))
    return f"{len(got)}/{len(expected)} pages, lost {lost}, duplicated {duplicated}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--drivers", type=int, default=2)
    parser.add_argument("--pages", type=int, default=240, help="article pages in the site")
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--child", choices=["ours", "scrapy"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(child_ours(args.base, args.concurrency, args.drivers)))
        return
    if args.child == "scrapy":
        print(json.dumps(child_scrapy(args.base, args.concurrency)))
        return

    sys.path.insert(0, str(ROOT))
    from eswi_assets.demo_site.generate import build_site

    n = args.concurrency
    with tempfile.TemporaryDirectory(prefix="eswi-bench-crawl-") as tmp:
        site_dir = Path(tmp) / "site"
        build_site(site_dir, n_pages=args.pages)
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "scrapy": []}
        with served(site_dir) as base:
            run_child("ours", base, n)  # warm-up: file cache and .pyc files for both
            run_child("scrapy", base, n)
            for _ in range(args.repeats):
                for kind in runs:
                    runs[kind].append(run_child(kind, base, n))
            rendered = run_child("ours", base, n, drivers=args.drivers)
        with served(site_dir, args.fault_rate) as faulty:
            plain_noisy = run_child("ours", faulty, n)
            rendered_noisy = run_child("ours", faulty, n, drivers=args.drivers)

    def rate(kind: str, key: str) -> float:
        """Distinct pages fetched per second (Scrapy fetches its start URL twice)."""
        return statistics.median(len(set(r["ok"])) / r[key] for r in runs[kind])

    print(f"demo site, {args.pages} articles; concurrency {n}; depth {MAX_DEPTH}; delay 0;")
    print(f"medians of {args.repeats} alternated runs, each in a fresh process")
    print(f"{'crawler':<10}{'pages':>7}{'in-crawl s':>12}{'pages/s':>9}{'wall s':>9}{'pages/s':>9}")
    for kind in runs:
        pages = statistics.median(len(set(r["ok"])) for r in runs[kind])
        crawl_s = statistics.median(r["seconds"] for r in runs[kind])
        wall_s = statistics.median(r["wall"] for r in runs[kind])
        print(
            f"{kind:<10}{pages:>7.0f}{crawl_s:>12.2f}{rate(kind, 'seconds'):>9.1f}"
            f"{wall_s:>9.2f}{rate(kind, 'wall'):>9.1f}"
        )
    in_crawl = rate("ours", "seconds") / rate("scrapy", "seconds")
    wall = rate("ours", "wall") / rate("scrapy", "wall")
    print(f"ours/Scrapy in-crawl pages/s:   {in_crawl:.2f}x (target >= 1.0x)")
    print(f"ours/Scrapy wall-clock pages/s: {wall:.2f}x (target >= 0.8x, start-up included)")
    per_driver = len(rendered["ok"]) / rendered["seconds"] / args.drivers
    print(
        f"rendered crawl, {args.drivers} drivers: {len(rendered['ok'])} pages in "
        f"{rendered['seconds']:.1f} s, {per_driver:.2f} pages/s per driver"
    )
    clean_base = base
    print(f"behind {args.fault_rate:.0%} injected faults (500, 503, 429, reset):")
    print(f"  plain:    {fault_check(runs['ours'][0], plain_noisy, faulty, clean_base)}")
    print(f"  rendered: {fault_check(rendered, rendered_noisy, faulty, clean_base)}")


if __name__ == "__main__":
    main()
