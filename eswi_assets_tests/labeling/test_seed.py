import opencc

from eswi_assets.labeling.aggregate import LABELED_COLUMNS
from eswi_assets.labeling.seed import seed_labels
from eswi_assets.labeling.sentences import sentence_id


def test_seed_labels_are_balanced_unique_and_in_the_labeled_sentiment_schema():
    df = seed_labels(per_label=200)
    assert list(df.columns) == LABELED_COLUMNS
    assert df["label"].value_counts().to_dict() == {"positive": 200, "negative": 200}
    assert df["sentence_id"].is_unique and df["text"].is_unique
    assert (df["sentence_id"] == df["text"].map(sentence_id)).all()
    assert set(df["source"]) == {"seed"} and set(df["annotators"]) == {"seed"}
    assert df["doc_id"].isna().all()


def test_seed_texts_are_traditional_chinese():
    texts = seed_labels(per_label=200)["text"]
    simplified_only = "这们说书么为还时个来对会买质"
    assert not texts.str.contains(f"[{simplified_only}]").any()
    to_simplified = opencc.OpenCC("t2s")
    assert (texts.map(to_simplified.convert) != texts).mean() > 0.5


def test_seed_texts_hold_no_urls_or_long_digit_runs():
    texts = seed_labels(per_label=1500)["text"]
    assert not texts.str.contains(r"www\.|https?:|@|\d{6,}").any()
    assert texts.str.len().between(8, 120).all()
