"""Data checks on `raw_pages` and `cleaned_corpus`: the Responsible-AI checks of the seed talk.

Each check is a plain function from a DataFrame to a `CheckOutcome` (passed + the numbers behind
it), so it can be tested on a corpus made bad on purpose without running Dagster. The assets
yield the results right after their output, one per crawl date (a range run gives each date the
result a run of that date alone would), so every check sees exactly the rows stored for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import dagster as dg
import numpy as np
import pandas as pd

from eswi_assets.checks.base import Check, CheckOutcome
from eswi_assets.cleaning.pii_audit import MAX_EXAMPLES, DetectorUnavailable, audit, load_detector
from eswi_assets.keys import CLEANED_CORPUS, RAW_PAGES


@dataclass(frozen=True)
class CheckThresholds:
    max_failed_share: float = 0.2
    max_missing_share: float = 0.05
    max_outlier_share: float = 0.1
    max_wrong_language_share: float = 0.05
    max_dominant_share: float = 0.9
    max_duplicate_share: float = 0.05


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _robust_outliers(values: pd.Series) -> pd.Series:
    """Tukey's fences on log length: lengths are heavy-tailed, so a plain z-score misleads."""
    logged = np.log(values.clip(lower=1).astype(float))
    q1, q3 = logged.quantile(0.25), logged.quantile(0.75)
    spread = q3 - q1
    return (logged < q1 - 3 * spread) | (logged > q3 + 3 * spread)


def _dominance(df: pd.DataFrame, column: str) -> tuple[str, float]:
    if df.empty:
        return "", 0.0
    counts = df[column].astype(str).value_counts()
    return str(counts.index[0]), _share(int(counts.iloc[0]), len(df))


def crawl_failures(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    counts = df["outcome"].value_counts().to_dict() if not df.empty else {}
    failed = int(counts.get("failed", 0))
    share = _share(failed, len(df))
    return CheckOutcome(
        share <= t.max_failed_share and counts.get("ok", 0) > 0,
        {
            "rows": len(df),
            "failed_share": share,
            "threshold": t.max_failed_share,
            **{f"outcome_{k}": int(v) for k, v in counts.items()},
        },
    )


def raw_missing_values(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    ok = df[df["outcome"] == "ok"] if not df.empty else df
    missing_html = int((ok["html"].fillna("").str.strip() == "").sum()) if len(ok) else 0
    missing_title = int((ok["title"].fillna("").str.strip() == "").sum()) if len(ok) else 0
    share = _share(max(missing_html, missing_title), len(ok))
    return CheckOutcome(
        share <= t.max_missing_share,
        {
            "ok_rows": len(ok),
            "empty_html": missing_html,
            "empty_title": missing_title,
            "threshold": t.max_missing_share,
        },
    )


def raw_duplicate_rate(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    ok = df[df["outcome"] == "ok"] if not df.empty else df
    dupes = int(ok["content_hash"].duplicated().sum()) if len(ok) else 0
    share = _share(dupes, len(ok))
    return CheckOutcome(
        share <= t.max_duplicate_share,
        {"ok_rows": len(ok), "duplicate_pages": dupes, "duplicate_share": share},
    )


def raw_source_skew(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    top, share = _dominance(df[df["outcome"] == "ok"] if not df.empty else df, "source")
    sources = int(df["source"].nunique()) if not df.empty else 0
    return CheckOutcome(
        sources <= 1 or share <= t.max_dominant_share,
        {"sources": sources, "dominant_source": top, "dominant_share": share},
    )


def corpus_missing_values(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    empty = {
        column: int((df[column].fillna("").str.strip() == "").sum()) if len(df) else 0
        for column in ("title", "summary", "body")
    }
    share = _share(max(empty.values()), len(df))
    return CheckOutcome(
        len(df) > 0 and share <= t.max_missing_share,
        {"rows": len(df), **{f"empty_{k}": v for k, v in empty.items()}, "worst_share": share},
    )


def corpus_unexpected_values(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    if df.empty:
        return CheckOutcome(False, {"rows": 0})
    length_outliers = int(_robust_outliers(df["length"]).sum())
    cjk = df["cjk_share"].astype(float)
    cjk_outliers = int((cjk < cjk.median() - 0.3).sum())
    wrong_language = int((df["language"] != "zh-Hant").sum())
    length_share = _share(length_outliers, len(df))
    cjk_share_out = _share(cjk_outliers, len(df))
    language_share = _share(wrong_language, len(df))
    return CheckOutcome(
        length_share <= t.max_outlier_share
        and cjk_share_out <= t.max_outlier_share
        and language_share <= t.max_wrong_language_share,
        {
            "rows": len(df),
            "length_outliers": length_outliers,
            "length_median": float(df["length"].median()),
            "cjk_share_outliers": cjk_outliers,
            "cjk_share_median": round(float(cjk.median()), 4),
            "wrong_language_rows": wrong_language,
            "languages": dg.MetadataValue.json(df["language"].value_counts().to_dict()),
        },
    )


def corpus_skew(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    top_source, source_share = _dominance(df, "source")
    top_date, date_share = _dominance(df, "partition_date")
    sources = int(df["source"].nunique()) if len(df) else 0
    dates = int(df["partition_date"].nunique()) if len(df) else 0
    passed = (sources <= 1 or source_share <= t.max_dominant_share) and (
        dates <= 1 or date_share <= t.max_dominant_share
    )
    return CheckOutcome(
        passed,
        {
            "sources": sources,
            "dominant_source": top_source,
            "dominant_source_share": source_share,
            "dates": dates,
            "dominant_date": top_date,
            "dominant_date_share": date_share,
        },
    )


def corpus_duplicate_rate(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    dup_ids = int(df["doc_id"].duplicated().sum()) if len(df) else 0
    dup_bodies = int(df["body"].duplicated().sum()) if len(df) else 0
    share = _share(dup_ids + dup_bodies, len(df))
    return CheckOutcome(
        share <= t.max_duplicate_share,
        {"rows": len(df), "duplicate_doc_ids": dup_ids, "duplicate_bodies": dup_bodies},
    )


def corpus_pii_residue(df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    """Blocking: a model must never be trained on personal data the redaction missed.

    The detector is Presidio with its own recognizers and jieba's name tagger (`pii_audit`), not
    the redactor's rules, so what those rules miss can fail the check. If it cannot be built,
    `DetectorUnavailable` fails the asset rather than passing unchecked text.
    """
    load_detector()
    totals: Counter[str] = Counter()
    examples: list[str] = []
    rows_with_pii = 0
    for text in df["title"].fillna("") + "\n" + df["summary"].fillna("") + "\n" + df["body"]:
        found = audit(text)
        if any(found.counts.values()):
            rows_with_pii += 1
            examples += found.examples[: MAX_EXAMPLES - len(examples)]
        totals.update(found.counts)
    return CheckOutcome(
        rows_with_pii == 0,
        {
            "rows": len(df),
            "rows_with_pii": rows_with_pii,
            **{f"residue_{k}": v for k, v in sorted(totals.items())},
            "masked_examples": dg.MetadataValue.json(examples),
        },
    )


CHECKS: dict[str, tuple[Check, ...]] = {
    RAW_PAGES: (
        Check("crawl_failures", RAW_PAGES, crawl_failures, "URLs that failed after retries."),
        Check(
            "missing_values", RAW_PAGES, raw_missing_values, "Fetched pages with no HTML or title."
        ),
        Check("duplicate_rate", RAW_PAGES, raw_duplicate_rate, "Pages with identical content."),
        Check("source_skew", RAW_PAGES, raw_source_skew, "One source dominating the crawl."),
    ),
    CLEANED_CORPUS: (
        Check(
            "missing_values", CLEANED_CORPUS, corpus_missing_values, "Empty title, summary or body."
        ),
        Check(
            "unexpected_values",
            CLEANED_CORPUS,
            corpus_unexpected_values,
            "Length and CJK-share outliers; documents not in Traditional Chinese.",
        ),
        Check(
            "skew", CLEANED_CORPUS, corpus_skew, "One source or crawl date dominating the corpus."
        ),
        Check("duplicate_rate", CLEANED_CORPUS, corpus_duplicate_rate, "Duplicate documents left."),
        Check(
            "pii_residue",
            CLEANED_CORPUS,
            corpus_pii_residue,
            "Personal data left after redaction; blocking, training must never see it.",
            blocking=True,
        ),
    ),
}


def evaluate(check: Check, df: pd.DataFrame, t: CheckThresholds) -> CheckOutcome:
    """The check's outcome; a check that raises fails (naming the error) instead of passing or
    hiding the other checks. A PII detector that cannot load still fails the asset."""
    try:
        return check.fn(df, t)
    except DetectorUnavailable:
        raise
    except Exception as error:  # a bug in one check must not pass the data or stop the rest
        return CheckOutcome(False, {"rows": len(df), "error": f"{type(error).__name__}: {error}"})


def run_checks(
    asset: str, df: pd.DataFrame, t: CheckThresholds, partition: str | None = None
) -> list[dg.AssetCheckEvaluation]:
    """Every check of `asset` over `df`, recorded for `partition` (one crawl date)."""
    return [check.evaluation(evaluate(check, df, t), partition) for check in CHECKS[asset]]
