"""Training data: deterministic document splits and label pairs."""

from __future__ import annotations

import pandas as pd
import pytest

from eswi_assets.training.data import (
    TrainingDataError,
    corpus_examples,
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
