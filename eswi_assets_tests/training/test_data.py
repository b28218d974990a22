"""Training data: deterministic document splits, label pairs, and ratings turned into pairs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from eswi_assets.stores.feedback import Feedback, SqliteFeedbackStore
from eswi_assets.training.data import (
    TrainingDataError,
    corpus_examples,
    feedback_pairs,
    format_prompt,
    label_pairs,
)
from eswi_assets_tests.training.conftest import review_corpus, seed_labels


def test_document_split_does_not_depend_on_row_order_or_corpus_size():
    small = corpus_examples(review_corpus(60))
    shuffled = corpus_examples(review_corpus(60).sample(frac=1, random_state=3))
    grown = corpus_examples(pd.concat([review_corpus(60), review_corpus(40, seed=9)]))
    by_doc = small.set_index("doc_id")["split"]
    assert shuffled.set_index("doc_id")["split"].equals(by_doc.loc[shuffled["doc_id"]])
    assert grown.set_index("doc_id")["split"].loc[by_doc.index].equals(by_doc)
    assert set(small["split"]) == {"sft", "ppo", "eval"}


def test_examples_pair_title_and_summary_with_the_body():
    corpus = review_corpus(30)
    examples = corpus_examples(corpus).set_index("doc_id")
    row = corpus.iloc[0]
    assert examples.loc[row["doc_id"], "prompt"] == format_prompt(row["title"], row["summary"])
    assert examples.loc[row["doc_id"], "completion"] == row["body"]


def test_empty_corpus_stops_with_an_error_naming_it():
    with pytest.raises(TrainingDataError, match="cleaned_corpus is empty"):
        corpus_examples(review_corpus(3).iloc[0:0])


def test_label_pairs_choose_the_target_sentiment_and_keep_held_out_sentences_apart():
    labels = seed_labels(80)
    by_text = labels.set_index("text")["label"]
    for target in ("positive", "negative"):
        pairs = label_pairs(labels, target, max_pairs=500, seed=0)
        assert (pairs["chosen"].map(by_text) == target).all()
        assert (pairs["rejected"].map(by_text) != target).all()
        train, held = pairs[pairs["split"] == "train"], pairs[pairs["split"] == "eval"]
        assert len(held) > 0
        train_texts = set(train["chosen"]) | set(train["rejected"])
        assert not train_texts & (set(held["chosen"]) | set(held["rejected"]))


def test_label_pairs_are_reproducible_for_a_seed():
    labels = seed_labels(40)
    first = label_pairs(labels, "positive", 100, seed=1)
    assert first.equals(label_pairs(labels.sample(frac=1, random_state=2), "positive", 100, 1))


def test_too_few_labels_stop_with_an_error_naming_the_counts():
    labels = seed_labels(30)
    only_positive = labels[labels["label"] == "positive"]
    with pytest.raises(TrainingDataError, match="0 other sentences"):
        label_pairs(only_positive, "positive", 100, 0)
    with pytest.raises(TrainingDataError, match="training pairs"):
        label_pairs(seed_labels(3), "positive", 100, 0, min_pairs=8)


def rating(n: int, prompt: str, response: str, value: int, user: str = "U1") -> Feedback:
    return Feedback(
        feedback_id=f"f{n}",
        generation_id=f"g-{response}",
        model_version="ppo_model/r1",
        prompt=prompt,
        response=response,
        rating=value,
        user_id=user,
        channel="api",
        created_at=datetime(2026, 11, 3, tzinfo=UTC),
    )


def test_ratings_in_the_feedback_store_become_preference_pairs(tmp_path: Path):
    store = SqliteFeedbackStore(path=str(tmp_path / "fb.sqlite"), salt="s")
    store.upsert(
        [
            rating(1, "社區共餐", "大家很開心", 5),
            rating(2, "社區共餐", "普普通通", 3),
            rating(3, "社區共餐", "很失望", 1),
            rating(4, "社區共餐", "也很開心", 5),
            rating(5, "新書", "好看", 4),
            rating(6, "新書", "好看", 2, user="U2"),
            rating(7, "新書", "難看", 2),
        ]
    )
    pairs = feedback_pairs(store.read_all())
    got = set(zip(pairs["prompt"], pairs["chosen"], pairs["rejected"], strict=True))
    assert got == {
        ("社區共餐", "大家很開心", "普普通通"),
        ("社區共餐", "大家很開心", "很失望"),
        ("社區共餐", "也很開心", "普普通通"),
        ("社區共餐", "也很開心", "很失望"),
        ("社區共餐", "普普通通", "很失望"),
        ("新書", "好看", "難看"),
    }
    assert (pairs["source"] == "feedback").all()
    assert set(pairs["split"]) <= {"train", "eval"}


def test_no_feedback_gives_no_pairs():
    assert feedback_pairs(pd.DataFrame(columns=["prompt", "response", "rating"])).empty
