import dagster as dg
import pandas as pd

from eswi_assets.checks.label_checks import (
    LabelCheckInput,
    LabelThresholds,
    label_agreement,
    label_balance,
    label_values,
    source_match,
)
from eswi_assets.labeling.aggregate import Agreement
from eswi_assets.labeling.sentences import sentence_id

T = LabelThresholds()
NO_AGREEMENT = Agreement(None, 0, 0)


def _labeled(rows: list[tuple[str, str, str]], source: str = "doccano") -> pd.DataFrame:
    """(text, label, doc_id) -> labeled_sentiment rows."""
    return pd.DataFrame(
        {
            "sentence_id": [sentence_id(text) for text, _, _ in rows],
            "text": [text for text, _, _ in rows],
            "label": [label for _, label, _ in rows],
            "source": source,
            "annotators": "ann1",
            "n_annotations": 1,
            "doc_id": [doc for _, _, doc in rows],
            "labeled_at": pd.Timestamp("2026-11-20"),
        }
    )


def _check(fn, df, agreement=NO_AGREEMENT, corpus=None):
    data = LabelCheckInput(labeled=df, agreement=agreement)
    if corpus is not None:
        data = LabelCheckInput(labeled=df, agreement=agreement, corpus=corpus)
    return fn(data, T)


def test_label_values_fail_on_unknown_or_missing_labels_and_empty_texts():
    good = _labeled([("服務很好。", "positive", "d1"), ("太差了。", "negative", "d1")])
    assert _check(label_values, good).passed
    unknown = _check(label_values, _labeled([("還行吧。", "mixed", "d1")]))
    assert not unknown.passed and unknown.metadata["unknown_label_rows"] == 1
    assert unknown.metadata["unknown_labels"].value == ["mixed"]
    missing = _check(label_values, _labeled([("還行吧。", None, "d1")]))
    assert not missing.passed and missing.metadata["missing_labels"] == 1
    empty = _check(label_values, _labeled([("", "positive", "d1")]))
    assert not empty.passed and empty.metadata["empty_texts"] == 1
    assert not _check(label_values, good.iloc[0:0]).passed


def test_label_balance_fails_when_one_label_dominates_or_a_required_one_is_absent():
    balanced = _labeled([(f"好{i}。", "positive", "d") for i in range(6)])
    balanced = pd.concat([balanced, _labeled([(f"壞{i}。", "negative", "d") for i in range(4)])])
    assert _check(label_balance, balanced).passed
    skewed = pd.concat(
        [
            _labeled([(f"好{i}。", "positive", "d") for i in range(9)]),
            _labeled([("壞。", "negative", "d")]),
        ]
    )
    outcome = _check(label_balance, skewed)
    assert not outcome.passed and outcome.metadata["dominant_share"] == 0.9
    only_one = _check(
        label_balance, _labeled([("好。", "positive", "d"), ("壞。", "neutral", "d")])
    )
    assert not only_one.passed
    assert only_one.metadata["absent_required_labels"].value == ["negative"]


def test_label_agreement_blocks_low_kappa_but_only_once_enough_sentences_are_shared():
    df = _labeled([("好。", "positive", "d")])
    assert not _check(label_agreement, df, Agreement(0.1, 50, 2)).passed
    assert _check(label_agreement, df, Agreement(0.7, 50, 2)).passed
    few = _check(label_agreement, df, Agreement(0.1, 3, 2))
    assert few.passed and "too few" in few.metadata["note"]


def test_source_match_errors_on_text_edited_in_doccano_and_warns_on_stale_sentences():
    corpus = pd.DataFrame({"doc_id": ["d1"], "body": ["今天很好。服務很棒！"]})
    fine = _labeled([("服務很棒！", "positive", "d1")])
    assert _check(source_match, fine, corpus=corpus).passed
    edited = fine.assign(text="服務很棒！打電話 0912345678")
    outcome = _check(source_match, edited, corpus=corpus)
    assert not outcome.passed and outcome.severity == dg.AssetCheckSeverity.ERROR
    stale = _check(source_match, _labeled([("這句已經不在了。", "negative", "d1")]), corpus=corpus)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    seed = _labeled([("種子句子不需要來源。", "negative", None)], source="seed")
    assert _check(source_match, seed, corpus=corpus).passed
