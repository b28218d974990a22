"""What the models train on: one document per near-duplicate cluster across all crawl dates,
and the held-out split never holds a near-twin of a training document."""

from __future__ import annotations

import pandas as pd

from eswi_assets.cleaning.dedup import body_signatures, near_duplicate_clusters
from eswi_assets.training.data import corpus_examples
from eswi_assets_tests.training.conftest import review_corpus


def test_near_duplicates_across_dates_and_urls_are_trained_on_once():
    corpus = review_corpus(60)
    corpus["minhash"] = body_signatures(corpus["body"].tolist())
    # The same texts, lightly edited, under other URLs on a later date.
    twins = corpus.head(20).copy()
    twins["doc_id"] = [f"twin-{i:02d}" for i in range(20)]
    twins["partition_date"] = pd.Timestamp("2026-11-09")
    twins["body"] = twins["body"] + "。"
    twins["minhash"] = body_signatures(twins["body"].tolist())
    examples = corpus_examples(pd.concat([corpus, twins], ignore_index=True))
    assert len(examples) == 60
    assert not examples["doc_id"].str.startswith("twin-").any()  # the earlier crawl is kept


def test_no_held_out_document_has_a_near_twin_in_training():
    corpus = review_corpus(80)
    twins = corpus.sample(30, random_state=1).copy()
    twins["doc_id"] = [f"twin-{i:02d}" for i in range(30)]
    twins["body"] = "　" + twins["body"]  # differs only in whitespace width
    examples = corpus_examples(pd.concat([corpus, twins], ignore_index=True))
    signatures = body_signatures(examples["completion"].tolist())
    clusters = near_duplicate_clusters(signatures)
    assert clusters == list(range(len(examples)))  # every kept document is its own cluster
    assert set(examples["split"]) == {"sft", "ppo", "eval"}


def test_clusters_point_at_the_first_member():
    body = "社區共餐的長輩們一起吃飯，氣氛溫暖，志工也分享了服務的心得與感想。" * 3
    signatures = body_signatures(
        [body, "完全不同的一篇文章內容，談的是書店與閱讀。" * 3, body + "！"]
    )
    assert near_duplicate_clusters(signatures) == [0, 1, 0]
