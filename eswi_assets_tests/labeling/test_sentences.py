import hashlib

import pandas as pd

from eswi_assets.labeling.sentences import (
    corpus_sentences,
    sample_for_labeling,
    sentence_id,
    split_sentences,
)


def test_split_keeps_end_marks_and_closing_quotes_with_their_sentence():
    text = "他說：「服務很好。」然後就走了！真的嗎？？\n下一行沒有句號"
    assert split_sentences(text) == [
        "他說：「服務很好。」",
        "然後就走了！",
        "真的嗎？？",
        "下一行沒有句號",
    ]


def test_sentence_id_is_the_sha1_of_the_utf8_text_as_architecture_md_says():
    assert sentence_id("服務很好。") == hashlib.sha1("服務很好。".encode()).hexdigest()


def test_corpus_sentences_are_distinct_and_remember_their_first_document():
    corpus = pd.DataFrame(
        {
            "doc_id": ["d1", "d2"],
            "source": ["news", "forum"],
            "body": [
                "這家餐廳的服務真的很好。太短。",
                "這家餐廳的服務真的很好。停車位實在太少了！",
            ],
        }
    )
    df = corpus_sentences(corpus)
    assert df["text"].tolist() == ["這家餐廳的服務真的很好。", "停車位實在太少了！"]
    assert df["doc_id"].tolist() == ["d1", "d2"]
    assert df["sentence_id"].tolist() == [sentence_id(t) for t in df["text"]]


def _sentences(per_source: dict[str, int]) -> pd.DataFrame:
    rows = [
        (sentence_id(f"{source}{i}"), f"{source}{i}", f"{source}-doc", source)
        for source, n in per_source.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows, columns=["sentence_id", "text", "doc_id", "source"])


def test_sample_shares_evenly_across_sources_so_a_big_one_cannot_crowd_out_a_small_one():
    sample = sample_for_labeling(_sentences({"big": 100, "small": 3, "mid": 10}), 12)
    assert sample["source"].value_counts().to_dict() == {"big": 5, "mid": 4, "small": 3}


def test_sample_never_offers_an_excluded_sentence_and_is_deterministic():
    sentences = _sentences({"a": 5, "b": 5})
    first = sample_for_labeling(sentences, 4)
    second = sample_for_labeling(sentences, 4, exclude=set(first["sentence_id"]))
    assert not set(first["sentence_id"]) & set(second["sentence_id"])
    assert sample_for_labeling(sentences, 4).equals(first)
    rest = sample_for_labeling(sentences, 100, exclude=set(first["sentence_id"]))
    assert len(rest) == 6
