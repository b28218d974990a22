"""Find and replace personal data in the scope of Taiwan's Personal Data Protection Act.

Kinds: national/resident IDs, phones, e-mails, payment cards (validated by check digit, Luhn,
phonenumbers' numbering plan), street addresses (a road, lane or village with a house number,
with or without city and district), and, where the text says what a value is, person names
(`pii_names`), birth dates, bank/postal accounts, passport numbers, licence plates and social
handles (LINE ID, IG, ...). A bare 10-digit number or a date is no personal data by itself, so
order numbers, dates, prices and invoice numbers stay.

Detection runs on a width-folded copy of the text (full-width `０９１２` reads as `0912`), but
replacement happens in the original text, which is otherwise left untouched. Python's `\\b` does
not separate Chinese from ASCII (both are `\\w`), so every pattern states its boundaries with
explicit look-arounds: `請聯絡0912345678謝謝` must still be found. Cue words come in Traditional
and Simplified forms, so mixed-script text is covered too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from eswi_assets.cleaning.pii_names import find_names, name_spans
from eswi_assets.cleaning.pii_patterns import DETECTORS, Span, fold

PLACEHOLDERS: dict[str, str] = {
    "tw_id": "[TW_ID]",
    "phone": "[PHONE]",
    "email": "[EMAIL]",
    "address": "[ADDRESS]",
    "card": "[CARD]",
    "name": "[NAME]",  # numbered per document: [NAME_1], [NAME_2], ...
    "birth_date": "[BIRTH_DATE]",
    "account": "[ACCOUNT]",
    "passport": "[PASSPORT]",
    "plate": "[PLATE]",
    "handle": "[HANDLE]",
}
PII_KINDS = tuple(PLACEHOLDERS)
# Every placeholder this module writes, so later stages (and the residue check) can skip them.
PLACEHOLDER_PATTERN = re.compile(
    r"\[(?:" + "|".join(p[1:-1] for p in PLACEHOLDERS.values()) + r")(?:_[0-9]+)?\]"
)


@dataclass(frozen=True)
class Redaction:
    """The redacted text and how many placeholders of each kind went in."""

    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _free(span: Span, taken: list[Span]) -> bool:
    return all(span.end <= t.start or span.start >= t.end for t in taken)


def _pattern_spans(folded: str) -> list[Span]:
    taken: list[Span] = []
    for detect in DETECTORS:
        for span in detect(folded):
            if _free(span, taken):
                taken.append(span)
    return taken


def _spans(folded: str, names: frozenset[str]) -> list[Span]:
    taken = _pattern_spans(folded)
    for start, end, _ in name_spans(folded, names):
        span = Span(start, end, "name")
        if _free(span, taken):
            taken.append(span)
    return sorted(taken)


def find_pii(text: str) -> list[Span]:
    """Non-overlapping PII spans in `text`, in text order (names as marked in `text`)."""
    folded = fold(text)
    return _spans(folded, frozenset(find_names(folded)))


def _count(spans: list[Span]) -> dict[str, int]:
    counts = dict.fromkeys(PII_KINDS, 0)
    for span in spans:
        counts[span.kind] += 1
    return counts


def redact_document(texts: Sequence[str]) -> list[Redaction]:
    """Redact the fields of one document (title, summary, body) together.

    A name found anywhere in the document is replaced everywhere in it, and the same name gets
    the same numbered placeholder (`[NAME_1]`) in every field, so the text stays readable.
    """
    folded = [fold(t) for t in texts]
    names = frozenset().union(*(find_names(f) for f in folded))
    numbers: dict[str, int] = {}
    redactions = []
    for text, folded_text in zip(texts, folded, strict=True):
        spans = _spans(folded_text, names)
        pieces, cursor = [], 0
        for span in spans:
            placeholder = PLACEHOLDERS[span.kind]
            if span.kind == "name":
                number = numbers.setdefault(folded_text[span.start : span.end], len(numbers) + 1)
                placeholder = f"[NAME_{number}]"
            pieces += [text[cursor : span.start], placeholder]
            cursor = span.end
        pieces.append(text[cursor:])
        redactions.append(Redaction("".join(pieces), _count(spans)))
    return redactions


def redact(text: str) -> Redaction:
    """Replace each PII span with its typed placeholder (`[PHONE]`, `[NAME_1]`, ...)."""
    return redact_document([text])[0]
