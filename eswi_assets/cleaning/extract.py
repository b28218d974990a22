"""Main-text extraction: title, summary and body of a fetched page, with trafilatura.

The body is the article as a reader sees it, lead paragraph included even when the page's
description repeats it. On short pages trafilatura appends the heading and the summary line
after the article; those trailing copies are page chrome and are removed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

# favor_precision: on short review pages trafilatura otherwise falls back to the whole page
# (navigation, footer). Shared with the benchmark so its baseline makes the same call.
TRAFILATURA_OPTIONS: dict[str, bool] = {
    "with_metadata": True,
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
}


@dataclass(frozen=True)
class ExtractedDoc:
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class ExtractionFailure:
    """Why a page gave no document, for the `dropped` table."""

    reason: str


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def extract_document(html: str, url: str) -> ExtractedDoc | ExtractionFailure:
    """Title, summary (the page description, else the lead paragraph) and body of a page.

    Never raises: broken or empty markup gives an `ExtractionFailure` with the reason.
    """
    try:
        doc = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
    except Exception as error:  # lxml and trafilatura raise assorted types on hostile markup
        return ExtractionFailure(f"extraction error: {type(error).__name__}: {error}")
    if doc is None or not _line(doc.text):
        return ExtractionFailure("no main text found")
    title = _line(doc.title)
    paragraphs = [p for p in map(_line, doc.text.splitlines()) if p]
    summary = _line(doc.description) or paragraphs[0]
    while len(paragraphs) > 1 and paragraphs[-1] in {title, summary}:
        paragraphs.pop()
    if paragraphs[0] == title and len(paragraphs) > 1:
        paragraphs.pop(0)
    return ExtractedDoc(title=title, summary=summary, body="\n".join(paragraphs))
