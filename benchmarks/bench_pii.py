"""PII recall per kind and look-alikes changed, on generated sentences; cleaning throughput.

Sentences come from `eswi_assets_tests/cleaning/pii_cases.py` (Faker `zh_TW` values in
contexts written for the project), split into `dev` and `holdout` contexts and seeds. The
throughput line compares `clean_pages` with trafilatura alone on the same pages in the same
process, as bench_cleaning.py does. The residue check's detector (`pii_audit`) is measured on
the same sentences, raw and redacted, to show it sees what the redactor misses.

    uv run python benchmarks/bench_pii.py [--per-kind 300] [--docs 600] [--split holdout]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the generator lives in the tests

from bench_cleaning import synthetic_pages

from eswi_assets.cleaning.extract import TRAFILATURA_OPTIONS
from eswi_assets.cleaning.options import CleaningSettings
from eswi_assets.cleaning.pii import redact
from eswi_assets.cleaning.pii_audit import audit
from eswi_assets.cleaning.pii_patterns import fold
from eswi_assets.cleaning.pipeline import clean_pages
from eswi_assets_tests.cleaning.pii_cases import KINDS, STRUCTURED, cases, lookalikes

TARGETS = {kind: 0.99 if kind in STRUCTURED else 0.95 for kind in KINDS}


def recall(split: str, per_kind: int, seed: int) -> None:
    found, total, audit_raw, audit_left = Counter(), Counter(), Counter(), Counter()
    misses: dict[str, list[str]] = {}
    for case in cases(split, per_kind, seed):
        total[case.kind] += 1
        redacted = redact(case.sentence).text
        leaked = [s for s in case.must_go if s and fold(s) in fold(redacted)]
        if leaked:
            misses.setdefault(case.kind, []).append(case.sentence)
        else:
            found[case.kind] += 1
        audit_raw[case.kind] += any(audit(case.sentence).counts.values())
        audit_left[case.kind] += bool(leaked) and any(audit(redacted).counts.values())
    print(f"recall on '{split}' contexts (seed {seed}), {per_kind} sentences per kind:")
    print(f"  {'kind':<11} {'recall':>7} {'target':>7}  audit sees raw  audit flags a miss")
    for kind in KINDS:
        share = found[kind] / total[kind]
        mark = "ok" if share >= TARGETS[kind] else "BELOW"
        missed = total[kind] - found[kind]
        print(
            f"  {kind:<11} {share:7.1%} {TARGETS[kind]:7.0%} {mark:<5} "
            f"{audit_raw[kind] / total[kind]:6.1%}       {audit_left[kind]}/{missed}"
        )
    for kind, sentences in misses.items():
        print(f"  missed {kind}: {sentences[:3]}")


def lookalike_share(split: str, n: int, seed: int) -> None:
    texts = list(lookalikes(split, n, seed))
    changed = [t for t in texts if redact(t).text != t]
    flagged = sum(any(audit(t).counts.values()) for t in texts)
    print(f"look-alikes changed: {len(changed)}/{len(texts)} = {len(changed) / len(texts):.2%}")
    print(f"  (target <= 1%; the residue detector flags {flagged}) e.g. {changed[:3]}")


def throughput(docs: int, seed: int) -> None:
    raw = synthetic_pages(docs, seed)
    settings = CleaningSettings()
    clean_pages(raw.head(20), settings)  # warm-up: OpenCC, phonenumbers metadata
    redact("許多人表示")  # and jieba's dictionary, loaded on the first name candidate
    start = time.perf_counter()
    for row in raw.itertuples(index=False):
        trafilatura.bare_extraction(row.html, url=row.url, **TRAFILATURA_OPTIONS)
    baseline = len(raw) / (time.perf_counter() - start)
    start = time.perf_counter()
    clean_pages(raw, settings)
    pipeline = len(raw) / (time.perf_counter() - start)
    print(f"throughput on {len(raw)} pages: trafilatura alone {baseline:.1f} docs/s, ", end="")
    print(f"clean_pages {pipeline:.1f} docs/s, ratio {pipeline / baseline:.2f} (target >= 0.80)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--lookalikes", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--split", choices=("dev", "holdout"), default="holdout")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    recall(args.split, args.per_kind, args.seed)
    lookalike_share(args.split, args.lookalikes, args.seed)
    if args.docs:
        throughput(args.docs, args.seed)


if __name__ == "__main__":
    main()
