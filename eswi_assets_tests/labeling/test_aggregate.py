import pandas as pd
import pytest

from eswi_assets.labeling.aggregate import (
    ANNOTATION_COLUMNS,
    LABELED_COLUMNS,
    agreement,
    majority_vote,
    merge_labels,
    tied_sentences,
)
from eswi_assets.labeling.seed import seed_labels


def _annotations(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(sentence_id, annotator, label, time) -> the frame a labeling resource returns."""
    return pd.DataFrame(
        [
            (sid, f"text {sid}", label, who, pd.Timestamp(f"2026-11-20 {at}"), f"doc-{sid}", i)
            for i, (sid, who, label, at) in enumerate(rows)
        ],
        columns=ANNOTATION_COLUMNS,
    )


def test_majority_wins_and_row_lists_every_annotator():
    df = majority_vote(
        _annotations(
            [
                ("s1", "ann1", "positive", "10:00"),
                ("s1", "ann2", "positive", "10:05"),
                ("s1", "admin", "negative", "10:01"),
            ]
        )
    )
    row = df.iloc[0]
    assert list(df.columns) == LABELED_COLUMNS
    assert (row["label"], row["annotators"], row["n_annotations"]) == (
        "positive",
        "admin,ann1,ann2",
        3,
    )
    assert row["source"] == "doccano" and row["doc_id"] == "doc-s1"
    assert row["labeled_at"] == pd.Timestamp("2026-11-20 10:05")


def test_an_annotator_who_changed_their_mind_counts_once_with_the_newest_label():
    df = majority_vote(
        _annotations(
            [
                ("s1", "ann1", "positive", "09:00"),
                ("s1", "ann1", "negative", "10:00"),
                ("s1", "ann2", "negative", "10:01"),
            ]
        )
    )
    assert (df.iloc[0]["label"], df.iloc[0]["n_annotations"]) == ("negative", 2)


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_a_tie_goes_to_the_label_cast_first_whatever_the_row_order(order):
    rows = [("s1", "ann1", "negative", "10:00"), ("s1", "ann2", "positive", "10:02")]
    annotations = _annotations([rows[i] for i in order])
    assert majority_vote(annotations).iloc[0]["label"] == "negative"
    assert tied_sentences(annotations) == 1


def test_kappa_is_one_for_full_agreement_and_low_for_systematic_disagreement():
    agree, disagree = [], []
    for i in range(10):
        label, other = ("positive", "negative") if i % 2 else ("negative", "positive")
        agree += [(f"s{i}", "ann1", label, "10:00"), (f"s{i}", "ann2", label, "10:01")]
        disagree += [(f"s{i}", "ann1", label, "10:00"), (f"s{i}", "ann2", other, "10:01")]
    full = agreement(_annotations(agree))
    assert (full.kappa, full.items, full.raters) == (pytest.approx(1.0), 10, 2)
    assert agreement(_annotations(disagree)).kappa < 0


def test_kappa_is_undefined_without_shared_sentences_or_without_any_variation():
    single = agreement(_annotations([("s1", "ann1", "positive", "10:00")]))
    assert (single.kappa, single.items) == (None, 0)
    same = [(f"s{i}", who, "positive", "10:00") for i in range(3) for who in ("ann1", "ann2")]
    assert agreement(_annotations(same)).kappa is None


def test_annotators_override_the_seed_label_of_the_same_sentence():
    seed = seed_labels(per_label=5)
    text = seed.iloc[0]["text"]
    flipped = "negative" if seed.iloc[0]["label"] == "positive" else "positive"
    annotations = _annotations([("x", "ann1", flipped, "10:00")]).assign(
        sentence_id=seed.iloc[0]["sentence_id"], text=text
    )
    merged = merge_labels(seed, majority_vote(annotations))
    assert len(merged) == len(seed)
    row = merged[merged["sentence_id"] == seed.iloc[0]["sentence_id"]].iloc[0]
    assert (row["label"], row["source"], row["annotators"]) == (flipped, "doccano", "ann1")
