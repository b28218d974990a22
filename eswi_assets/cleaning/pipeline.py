"""`raw_pages` rows -> `cleaned_corpus` rows: the order of the cleaning steps and the bookkeeping.

Extract -> Traditional Chinese -> redact PII -> quality rules -> de-duplicate.

Only pages written in Simplified Chinese are converted: OpenCC's s2twp is not idempotent on
Traditional text and would corrupt correct characters (傢伙 -> 傢夥). Redaction comes before the
quality rules so that length is measured on what is stored, and before de-duplication so pages
that differ only in a phone number count as duplicates. Every page that does not become a
document gets a row in `dropped` saying at which stage and why: nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from eswi_assets.cleaning.chinese import Language, cjk_share, detect_language, to_traditional
from eswi_assets.cleaning.dedup import DedupResult, deduplicate
from eswi_assets.cleaning.extract import ExtractionFailure, extract_document
from eswi_assets.cleaning.options import CleaningSettings
from eswi_assets.cleaning.pii import PII_KINDS, redact_document
from eswi_assets.cleaning.quality import QualityRules

# The `cleaned_corpus` table of ARCHITECTURE.md, in column order, with its pandas dtypes.
CORPUS_DTYPES: dict[str, str] = {
    "partition_date": "datetime64[ns]",
    "doc_id": "object",
    "url": "object",
    "source": "object",
    "title": "object",
    "summary": "object",
    "body": "object",
    "language": "object",
    "length": "int64",
    "cjk_share": "float64",
    "minhash": "object",
    "pii_redactions": "int64",
}
CORPUS_COLUMNS: tuple[str, ...] = tuple(CORPUS_DTYPES)
DROPPED_COLUMNS: tuple[str, ...] = ("url", "stage", "reason")

# Values of `dropped.stage`, in pipeline order.
CRAWL, EXTRACT, QUALITY = "crawl", "extract", "quality"
DUPLICATE_URL, EXACT_DUPLICATE, NEAR_DUPLICATE = (
    "duplicate_url",
    "exact_duplicate",
    "near_duplicate",
)


@dataclass(frozen=True)
class CleanSummary:
    """Counts for the asset's metadata; `redactions` covers the documents kept."""

    input_rows: int = 0
    not_ok: int = 0
    extraction_failures: int = 0
    quality_drops: int = 0
    duplicate_urls: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    documents: int = 0
    converted_from_simplified: int = 0
    redactions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PII_KINDS, 0))


@dataclass(frozen=True)
class CleanResult:
    corpus: pd.DataFrame
    dropped: pd.DataFrame
    summary: CleanSummary


@dataclass(frozen=True)
class CleanedPage:
    title: str
    summary: str
    body: str
    language: Language
    source_language: Language
    redactions: dict[str, int]


@dataclass(frozen=True)
class Dropped:
    stage: str
    reason: str


def canonical_url(url: str) -> str:
    """The URL a document is known by: scheme and host lower-cased, fragment dropped."""
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def doc_id(url: str) -> str:
    """Stable document id (also the Elasticsearch `_id`), so a re-run overwrites, never adds."""
    return hashlib.sha1(canonical_url(url).encode()).hexdigest()


def clean_page(
    html: str, url: str, fallback_title: str, rules: QualityRules
) -> CleanedPage | Dropped:
    """One fetched page -> a cleaned document, or the stage and reason it was dropped."""
    extracted = extract_document(html, url)
    if isinstance(extracted, ExtractionFailure):
        return Dropped(EXTRACT, extracted.reason)
    source_language = detect_language(extracted.body)
    texts = (extracted.title or fallback_title, extracted.summary, extracted.body)
    if source_language == "zh-Hans":
        texts = tuple(map(to_traditional, texts))
    title, summary, body = redact_document(texts)
    problem = rules.problem(body.text)
    if problem:
        return Dropped(QUALITY, problem)
    counts = Counter(title.counts) + Counter(summary.counts) + Counter(body.counts)
    return CleanedPage(
        title=title.text,
        summary=summary.text,
        body=body.text,
        language=detect_language(body.text),
        source_language=source_language,
        redactions={kind: counts[kind] for kind in PII_KINDS},
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _drop(url: str, stage: str, reason: str) -> dict[str, str]:
    return {"url": url, "stage": stage, "reason": reason}


def _crawl_drops(pages: pd.DataFrame) -> list[dict[str, str]]:
    return [
        _drop(row.url, CRAWL, f"{row.outcome}: {row.error}" if _text(row.error) else row.outcome)
        for row in pages.itertuples(index=False)
    ]


def _clean_each(
    pages: pd.DataFrame, rules: QualityRules, dropped: list[dict[str, str]]
) -> list[tuple[Any, CleanedPage]]:
    """(raw row, cleaned page) in URL order; pages dropped on the way are appended to `dropped`."""
    cleaned: list[tuple[Any, CleanedPage]] = []
    first_url: dict[str, str] = {}
    for row in pages.sort_values("url", kind="stable").itertuples(index=False):
        page = clean_page(_text(row.html), row.url, _text(row.title), rules)
        if isinstance(page, Dropped):
            dropped.append(_drop(row.url, page.stage, page.reason))
        elif (first := first_url.setdefault(doc_id(row.url), row.url)) != row.url:
            dropped.append(_drop(row.url, DUPLICATE_URL, f"same page as {first}"))
        else:
            cleaned.append((row, page))
    return cleaned


def _duplicate_drops(urls: list[str], dedup: DedupResult) -> list[dict[str, str]]:
    drops = []
    for index, duplicate in sorted(dedup.duplicates.items()):
        original = urls[duplicate.of]
        if duplicate.kind == "exact":
            drops.append(_drop(urls[index], EXACT_DUPLICATE, f"same text as {original}"))
        else:
            reason = f"Jaccard {duplicate.similarity:.2f} with {original}"
            drops.append(_drop(urls[index], NEAR_DUPLICATE, reason))
    return drops


def _record(row: Any, page: CleanedPage, signature: str) -> dict[str, Any]:
    return {
        "partition_date": row.partition_date,
        "doc_id": doc_id(row.url),
        "url": row.url,
        "source": row.source,
        "title": page.title,
        "summary": page.summary,
        "body": page.body,
        "language": page.language,
        "length": len(page.body),
        "cjk_share": round(cjk_share(page.body), 4),
        "minhash": signature,
        "pii_redactions": sum(page.redactions.values()),
    }


def _frames(
    records: list[dict[str, Any]], dropped: list[dict[str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    corpus = pd.DataFrame.from_records(records, columns=list(CORPUS_COLUMNS)).astype(CORPUS_DTYPES)
    dropped_df = pd.DataFrame.from_records(dropped, columns=list(DROPPED_COLUMNS)).astype(object)
    return corpus, dropped_df


def _summary(
    input_rows: int, dropped: list[dict[str, str]], kept: list[CleanedPage]
) -> CleanSummary:
    stages = Counter(d["stage"] for d in dropped)
    redactions = Counter[str]()
    for page in kept:
        redactions.update(page.redactions)
    return CleanSummary(
        input_rows=input_rows,
        not_ok=stages[CRAWL],
        extraction_failures=stages[EXTRACT],
        quality_drops=stages[QUALITY],
        duplicate_urls=stages[DUPLICATE_URL],
        exact_duplicates=stages[EXACT_DUPLICATE],
        near_duplicates=stages[NEAR_DUPLICATE],
        documents=len(kept),
        converted_from_simplified=sum(page.source_language == "zh-Hans" for page in kept),
        redactions={kind: redactions[kind] for kind in PII_KINDS},
    )


def clean_pages(raw: pd.DataFrame, settings: CleaningSettings) -> CleanResult:
    """Clean the `ok` rows of a `raw_pages` frame into `cleaned_corpus` rows (see module doc).

    Pages are processed in URL order, so which copy of a duplicate survives never depends on the
    order the crawl happened to store them in.
    """
    if raw.empty:
        corpus, dropped_df = _frames([], [])
        return CleanResult(corpus, dropped_df, CleanSummary())
    is_ok = raw["outcome"] == "ok"
    dropped = _crawl_drops(raw[~is_ok])
    rules = QualityRules(settings.min_body_chars, settings.max_body_chars, settings.min_cjk_share)
    candidates = _clean_each(raw[is_ok], rules, dropped)
    dedup = deduplicate(
        [page.body for _, page in candidates],
        threshold=settings.near_duplicate_threshold,
        num_perm=settings.num_perm,
        shingle=settings.shingle,
    )
    dropped += _duplicate_drops([row.url for row, _ in candidates], dedup)
    records = [_record(*candidates[i], dedup.signatures[i]) for i in dedup.kept]
    corpus, dropped_df = _frames(records, dropped)
    kept = [candidates[i][1] for i in dedup.kept]
    return CleanResult(corpus, dropped_df, _summary(len(raw), dropped, kept))
