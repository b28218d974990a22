"""From single annotations to one label per sentence: majority vote, agreement and merging with
the seed set.

An annotator's vote is their newest label on a sentence (doccano lets one person give a sentence
several categories, or change their mind). A tie goes to the tied label that was cast first, so
the result is the same on every run and does not favour any label by name. Agreement is Fleiss'
kappa (statsmodels) over the sentences labeled by the most common number of annotators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

LABELS = ("positive", "negative", "neutral")

# ARCHITECTURE.md, `labeled_sentiment`: columns in order, with their dtypes.
LABELED_DTYPES = {
    "sentence_id": object,
    "text": object,
    "label": object,
    "source": object,
    "annotators": object,
    "n_annotations": "int64",
    "doc_id": "string",
    "labeled_at": "datetime64[ns]",
}
# One row per label an annotator cast, as the labeling resource returns them.
ANNOTATION_DTYPES = {
    "sentence_id": object,
    "text": object,
    "label": object,
    "annotator": object,
    "annotated_at": "datetime64[ns]",
    "doc_id": "string",
    "example_id": "int64",
}
LABELED_COLUMNS = list(LABELED_DTYPES)
ANNOTATION_COLUMNS = list(ANNOTATION_DTYPES)


def _empty(dtypes: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def empty_labeled() -> pd.DataFrame:
    return _empty(LABELED_DTYPES)


def empty_annotations() -> pd.DataFrame:
    return _empty(ANNOTATION_DTYPES)


def latest_votes(annotations: pd.DataFrame) -> pd.DataFrame:
    """Each annotator's newest label per sentence."""
    ordered = annotations.sort_values(["annotated_at", "label"], kind="stable")
    return ordered.drop_duplicates(["sentence_id", "annotator"], keep="last")


def majority_vote(annotations: pd.DataFrame) -> pd.DataFrame:
    """One `labeled_sentiment` row (source `doccano`) per annotated sentence."""
    votes = latest_votes(annotations)
    if votes.empty:
        return empty_labeled()
    tally = (
        votes.groupby(["sentence_id", "label"])
        .agg(votes=("annotator", "size"), first_cast=("annotated_at", "min"))
        .reset_index()
        .sort_values(
            ["sentence_id", "votes", "first_cast", "label"], ascending=[True, False, True, True]
        )
    )
    winners = tally.drop_duplicates("sentence_id").set_index("sentence_id")["label"]
    per_sentence = votes.sort_values("annotated_at").groupby("sentence_id")
    df = pd.DataFrame(
        {
            "text": per_sentence["text"].last(),
            "label": winners,
            "source": "doccano",
            "annotators": per_sentence["annotator"].agg(lambda a: ",".join(sorted(set(a)))),
            "n_annotations": per_sentence.size().astype("int64"),
            "doc_id": per_sentence["doc_id"].last(),
            "labeled_at": per_sentence["annotated_at"].max(),
        }
    )
    df = df.rename_axis("sentence_id").reset_index()
    return df.astype(empty_labeled().dtypes)[LABELED_COLUMNS]


def tied_sentences(annotations: pd.DataFrame) -> int:
    """Sentences whose top labels drew the same number of votes (settled by the tie-break)."""
    votes = latest_votes(annotations)
    if votes.empty:
        return 0
    counts = votes.groupby(["sentence_id", "label"]).size()
    top = counts.groupby(level="sentence_id").transform("max")
    return int(((counts == top).groupby(level="sentence_id").sum() > 1).sum())


@dataclass(frozen=True)
class Agreement:
    """Fleiss' kappa over `items` sentences that `raters` annotators each labeled.

    `kappa` is None when no sentence has two votes, or when every vote is the same label (kappa
    is undefined: no disagreement is possible by chance either).
    """

    kappa: float | None
    items: int
    raters: int


def agreement(annotations: pd.DataFrame) -> Agreement:
    votes = latest_votes(annotations)
    per_item = votes.groupby("sentence_id")["label"].agg(list)
    sizes = per_item.map(len)
    shared = sizes[sizes >= 2]
    if shared.empty:
        return Agreement(None, 0, 0)
    counts = shared.value_counts()
    raters = int(counts[counts == counts.max()].index.max())
    items = per_item[sizes == raters]
    table, _ = aggregate_raters(np.array(items.tolist(), dtype=object))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = float(fleiss_kappa(table, method="fleiss"))
    return Agreement(kappa if math.isfinite(kappa) else None, len(items), raters)


def merge_labels(seed: pd.DataFrame, annotated: pd.DataFrame) -> pd.DataFrame:
    """Seed and annotated rows together; where a sentence is in both, the annotators' label wins."""
    kept_seed = seed[~seed["sentence_id"].isin(annotated["sentence_id"])]
    frames = [f for f in (kept_seed, annotated) if not f.empty]
    if not frames:
        return empty_labeled()
    merged = pd.concat(frames, ignore_index=True)
    return merged.astype(empty_labeled().dtypes)[LABELED_COLUMNS]


def label_table(df: pd.DataFrame) -> pd.DataFrame:
    """Rows per label and source (labels in the usual order, then any others)."""
    table = pd.crosstab(df["label"], df["source"]) if len(df) else pd.DataFrame()
    order = [label for label in LABELS if label in table.index]
    return table.reindex(order + sorted(set(table.index) - set(order)))
