"""Crawl throughput on the demo site: `crawl()` rendered and plain against a bare httpx loop.

    uv run python benchmarks/bench_crawl.py [--pages N] [--pool-size K]

Builds and serves the demo site on 127.0.0.1, picks N article pages, and in one run times
(1) a plain sequential httpx loop over them (the baseline: no robots, retries, limits or
parsing), (2) `crawl()` over plain HTTP and (3) `crawl()` through headless Chromium, Chromium
start-up included. Politeness delay is 0 so the figures measure the crawler, not the pacing.
It also counts the JavaScript pages whose text each mode captured, the reason rendering costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import lxml.html

from eswi_assets.crawl.browser import BrowserPool
from eswi_assets.crawl.config import CrawlConfig
from eswi_assets.crawl.crawler import crawl
from eswi_assets.crawl.fetchers import HttpFetcher
from eswi_assets.crawl.records import PageRecord
from eswi_assets.demo_site.generate import PageSpec, build_site
from eswi_assets.demo_site.server import serve


def article_text(html: str) -> str:
    if not html.strip():
        return ""
    return "\n".join(p.text_content() for p in lxml.html.fromstring(html).xpath("//article//p"))


def baseline(urls: list[str]) -> float:
    """Seconds for a sequential GET of every URL with one keep-alive client."""
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for url in urls:
            client.get(url).raise_for_status()
    return time.perf_counter() - started


def timed_crawl(
    urls: list[str], *, render_js: bool, pool_size: int
) -> tuple[float, list[PageRecord]]:
    config = CrawlConfig(
        sources=[
            {
                "name": "bench",
                "start_urls": urls,
                "allowed_domains": ["127.0.0.1"],
                "max_depth": 0,
                "max_pages": len(urls),
                "render_js": render_js,
                "delay_seconds": 0,
            }
        ]
    )
    started = time.perf_counter()
    pool = BrowserPool(size=pool_size) if render_js else None
    try:
        with HttpFetcher(config.user_agent) as http:
            records = crawl(
                config,
                crawl_date=dt.date.today(),
                browser=pool,
                http=http,
                log=lambda message: None,
                workers=pool_size,
            )
    finally:
        if pool is not None:
            pool.close()
    return time.perf_counter() - started, records


def js_text_captured(records: list[PageRecord], pages: dict[str, PageSpec], base: str) -> str:
    js = [r for r in records if pages[r.url.removeprefix(base)].render != "static"]
    hit = sum(article_text(r.html) == pages[r.url.removeprefix(base)].body for r in js)
    return f"{hit}/{len(js)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--pool-size", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="eswi-bench-crawl-") as tmp:
        manifest = build_site(Path(tmp) / "site", n_pages=max(args.pages, 12))
        pages = {p.path: p for p in manifest.pages[: args.pages]}
        with serve(manifest.root) as site:
            urls = [site.url(path) for path in pages]
            baseline(urls)  # warm-up: file cache and imports, so no mode pays for them
            base_s = baseline(urls)
            plain_s, plain = timed_crawl(urls, render_js=False, pool_size=args.pool_size)
            rendered_s, rendered = timed_crawl(urls, render_js=True, pool_size=args.pool_size)
            base = site.base_url

    n = len(urls)
    rows = [
        ("baseline httpx loop", base_s, None, "-"),
        ("crawl(), plain HTTP", plain_s, plain, js_text_captured(plain, pages, base)),
        ("crawl(), Chromium", rendered_s, rendered, js_text_captured(rendered, pages, base)),
    ]
    print(f"{n} pages, pool size {args.pool_size}, politeness delay 0")
    print(f"{'mode':<22}{'seconds':>9}{'pages/s':>9}  {'outcomes':<18}JS text captured")
    for name, seconds, records, js in rows:
        outcomes = dict(Counter(r.outcome for r in records)) if records else {"ok": n}
        print(f"{name:<22}{seconds:>9.2f}{n / seconds:>9.1f}  {outcomes!s:<18}{js}")
    print(f"plain crawl / baseline:    {base_s / plain_s:.3g}x the baseline's pages/s")
    print(f"rendered crawl / baseline: {base_s / rendered_s:.3g}x the baseline's pages/s")
    print(f"rendered / plain crawl:    {plain_s / rendered_s:.3g}x the plain crawl's pages/s")
    js_wait = sum(p.delay_ms for p in pages.values()) / 1000 / args.pool_size
    print(f"the site's own JS delays alone take {js_wait:.1f} s per driver at this pool size")


if __name__ == "__main__":
    main()
