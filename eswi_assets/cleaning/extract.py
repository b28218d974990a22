"""Main-text extraction: title, summary and body of a fetched page, with trafilatura.

The model learns (title + summary) -> body, so the body must not repeat the title or the
summary: trafilatura keeps the page's summary paragraph and heading in the main text, and those
lines are removed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura


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
    """Title, summary (the page description, else the first paragraph) and body of a page.

    Never raises: broken or empty markup gives an `ExtractionFailure` with the reason.
    """
    try:
        # favor_precision: short review pages otherwise fall back to the whole page (nav, footer).
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
        )
    except Exception as error:  # lxml and trafilatura raise assorted types on hostile markup
        return ExtractionFailure(f"extraction error: {type(error).__name__}: {error}")
    if doc is None or not _line(doc.text):
        return ExtractionFailure("no main text found")
    title, summary = _line(doc.title), _line(doc.description)
    paragraphs = [p for p in map(_line, doc.text.splitlines()) if p and p not in {title, summary}]
    if not summary and paragraphs:
        summary = paragraphs[0]
        paragraphs = paragraphs[1:] or paragraphs
    if not paragraphs:
        return ExtractionFailure("main text only repeats the title or summary")
    return ExtractedDoc(title=title, summary=summary, body="\n".join(paragraphs))
