"""Preference pairs for the reward model from what users told the serving app.

Two kinds of feedback reach the store (one row per rated unit, see `stores.feedback.COLUMNS`):

- a *comparison*: two answers to one prompt, the user picks `first`, `second` or `both_bad`.
  A clear pick is one (chosen, rejected) pair for that prompt, the InstructGPT way. `both_bad`
  gives no pair: it says nothing about the order of the two answers, and turning it into two
  "undesirable" labels would need a desirable text to pair them with, which only a rating of
  the same user could give (the within-user pairing below then takes care of it anyway when
  that user also rated other answers).
- a *rating* (1-5) of a single answer. The service rarely shows two answers to one prompt, so
  ratings of one prompt seldom form a pair. Across prompts they do, but only within one user:
  a generous user rates everything 4-5 and a strict one 2-3, so "rated 4" by one and "rated 2"
  by another says more about the users than the texts. Within one user that bias cancels: an
  answer a user rated at least `MIN_GAP` above another answer of theirs is chosen over it.
  `benchmarks/bench_feedback_pairs.py` measures the gain on held-out data against pooling the
  ratings of all users into desirable (>= 4) and undesirable (<= 2) labels.

Both keep `data.held_out` by prompt: a comparison's prompt decides its side, and a user's
ratings are paired only within one side, so no pair that touches a held-out prompt trains.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd

from eswi_assets.training.data import PAIR_COLUMNS, held_out

RATING, COMPARISON = "rating", "comparison"
CLEAR_CHOICES = ("first", "second")
MIN_GAP = 2  # rating points between two answers of one user before one is preferred
MAX_PAIRS_PER_USER = 20  # so one prolific rater cannot outweigh everyone else
SOURCE_COMPARISON, SOURCE_USER_RATINGS = "comparison", "user_ratings"
FEEDBACK_SOURCES = (SOURCE_COMPARISON, SOURCE_USER_RATINGS)


def _split(prompt: str) -> str:
    return "eval" if held_out(prompt) else "train"


def clear_comparisons(feedback: pd.DataFrame) -> pd.DataFrame:
    """Comparisons with a clear pick between two different texts."""
    rows = feedback[(feedback["kind"] == COMPARISON) & feedback["choice"].isin(CLEAR_CHOICES)]
    return rows[rows["response"] != rows["other_response"]]


def comparison_pairs(feedback: pd.DataFrame) -> pd.DataFrame:
    """One pair per clear comparison: the picked answer over the other, for its prompt."""
    rows = clear_comparisons(feedback)
    first = rows["choice"] == "first"
    return pd.DataFrame(
        {
            "prompt": rows["prompt"],
            "chosen": rows["response"].where(first, rows["other_response"]),
            "rejected": rows["other_response"].where(first, rows["response"]),
            "source": SOURCE_COMPARISON,
            "split": rows["prompt"].map(_split),
        },
        columns=PAIR_COLUMNS,
    ).reset_index(drop=True)


def user_rating_pairs(
    feedback: pd.DataFrame,
    seed: int,
    min_gap: int = MIN_GAP,
    max_pairs_per_user: int = MAX_PAIRS_PER_USER,
) -> pd.DataFrame:
    """Within each user and side, an answer rated `min_gap` or more above another is chosen.

    Prompts may differ, so each side carries its own prompt (the pair's `prompt` is empty). An
    answer the user rated several times counts once, with its mean rating; a user with more
    candidate pairs than `max_pairs_per_user` contributes a seeded sample of them.
    """
    ratings = feedback[feedback["kind"] == RATING].dropna(subset=["rating"])
    if ratings.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    ratings = ratings.assign(
        text=ratings["prompt"] + ratings["response"],
        split=ratings["prompt"].map(_split),
        rating=ratings["rating"].astype(float),
    )
    rated = ratings.groupby(["user_hash", "split", "text"], as_index=False, sort=True)[
        "rating"
    ].mean()
    rng = np.random.default_rng(seed)
    frames = []
    for (_, split), group in rated.groupby(["user_hash", "split"], sort=True):
        ranked = group.sort_values(["rating", "text"], ascending=[False, True])
        pairs = [
            (better.text, worse.text)
            for better, worse in itertools.combinations(ranked.itertuples(index=False), 2)
            if better.rating - worse.rating >= min_gap
        ]
        if len(pairs) > max_pairs_per_user:
            keep = np.sort(rng.choice(len(pairs), max_pairs_per_user, replace=False))
            pairs = [pairs[i] for i in keep]
        if pairs:
            chosen, rejected = zip(*pairs, strict=True)
            frames.append(
                pd.DataFrame(
                    {
                        "prompt": "",
                        "chosen": chosen,
                        "rejected": rejected,
                        "source": SOURCE_USER_RATINGS,
                        "split": split,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PAIR_COLUMNS]


def feedback_pairs(feedback: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every pair the feedback store gives: comparisons, then within-user rating pairs."""
    if feedback.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    return pd.concat(
        [comparison_pairs(feedback), user_rating_pairs(feedback, seed)], ignore_index=True
    )


def new_usable_units(rows: pd.DataFrame, after_seq: int) -> Counter[str]:
    """Usable feedback first stored after `after_seq`, by kind: clear comparisons (one pair
    each) and ratings (each a label the within-user pairing can use). A re-rated unit keeps
    its `first_seq`, so changing a rating or a pick never counts again; `both_bad` counts
    nothing, as it gives no pair."""
    new = rows[rows["first_seq"] > after_seq]
    ratings = new[(new["kind"] == RATING) & new["rating"].notna()]
    return Counter({COMPARISON: len(clear_comparisons(new)), RATING: len(ratings)})
