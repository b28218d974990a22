"""base_model's pretraining: data kept apart from everything we evaluate on, a data version that
moves only when something changed, and clear errors on inputs that cannot make a base model."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from eswi_assets.assets.models.params import PretrainParams
from eswi_assets.demo_site.corpus import simplified_reviews, to_traditional
from eswi_assets.labeling.seed import seed_labels
from eswi_assets.training import judge
from eswi_assets.training.base import ModelShape, tiny_gpt2, train_tokenizer
from eswi_assets.training.pretrain import (
    REVIEW_SHARE,
    SHIPPED,
    PretrainError,
    corpus_lines,
    expected_fingerprint,
    news_lines,
    pretrain,
    recipe,
    review_lines,
    shipped_fingerprint,
    tokenizer_matches,
)
from eswi_assets.training.reward import PROBE_PAIRS, REPEATED_PHRASES
from eswi_assets_tests.training.conftest import reviews

MAX_CHARACTERS = recipe().max_characters


@pytest.fixture(scope="module")
def corpus_text() -> str:
    return "\n".join(corpus_lines(MAX_CHARACTERS))


def test_pretraining_text_is_traditional_news_and_reviews_without_pos_tags(corpus_text: str):
    assert len(corpus_text) > 0.99 * MAX_CHARACTERS
    news = "\n".join(news_lines(MAX_CHARACTERS // 2))
    assert "/n" not in news and "/v" not in news
    # "[中国/ns 政府/n]nt" leaves neither its brackets nor the compound's tag behind.
    assert not re.search(r"[\u4e00-\u9fff](nt|ns|nz|l|i)\b", news)
    assert "[" not in news and "]" not in news
    assert "總書記" in corpus_text and "总书记" not in corpus_text
    review_chars = sum(len(line) for line in review_lines(int(MAX_CHARACTERS * REVIEW_SHARE)))
    assert review_chars == pytest.approx(MAX_CHARACTERS * REVIEW_SHARE, rel=0.01)


def test_held_out_blocks_hold_news_and_reviews_alike():
    head = corpus_lines(MAX_CHARACTERS)[:400]
    reviews_in_head = set(head) & set(review_lines(int(MAX_CHARACTERS * REVIEW_SHARE)))
    assert 0.3 < len(reviews_in_head) / len(head) < 0.7


def test_no_demo_seed_probe_or_test_text_is_in_the_pretraining_corpus(corpus_text: str):
    """The demo site, the seed labels and the test corpora come from the pipeline's side of the
    reviews; the probes are hand-written. None may be what the base model memorised."""
    demo = [to_traditional(r) for s in ("positive", "negative") for r in simplified_reviews(s)]
    samples = [*demo[::10], *seed_labels()["text"][::10]]
    samples += [*reviews("positive")[:300], *reviews("negative")[:300]]
    samples += [text for pair in PROBE_PAIRS for text in pair]
    leaked = [text for text in samples if len(text) >= 16 and text[:16] in corpus_text]
    assert not leaked
    for phrases in REPEATED_PHRASES.values():
        assert not any(phrase * 3 in corpus_text for phrase in phrases)


def test_data_version_is_stable_and_follows_the_settings():
    plan = recipe("test")
    assert expected_fingerprint(plan) == expected_fingerprint(recipe("test"))
    assert expected_fingerprint(plan) != expected_fingerprint(recipe("test", seed=1))


def test_launchpad_config_picks_the_preset_and_replaces_only_what_it_sets():
    assert PretrainParams().recipe() == recipe("cpu")
    changed = PretrainParams(preset="test", block_size=32).recipe()
    assert changed == recipe("test", block_size=32)
    assert changed.max_steps == recipe("test").max_steps


def test_shipped_checkpoint_is_the_cpu_presets_own_and_fits_its_tokenizer():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert shipped_fingerprint() == expected_fingerprint(recipe())
    model = AutoModelForCausalLM.from_pretrained(SHIPPED)
    tokenizer = AutoTokenizer.from_pretrained(SHIPPED)
    tokenizer_matches(model, tokenizer)
    weights = sum(p.stat().st_size for p in SHIPPED.glob("*.safetensors"))
    assert weights < 40 * 2**20


@pytest.mark.slow
def test_test_preset_pretrains_a_model_that_fits_its_tokenizer(tmp_path: Path):
    result = pretrain(recipe("test"), tmp_path)
    tokenizer_matches(result.model, result.tokenizer)
    assert result.metrics["eval_loss_per_char"] < 8.0
    assert result.metrics["unknown_share"] < 0.05


def test_a_corpus_too_small_for_the_preset_stops_with_the_cause(tmp_path: Path):
    plan = recipe("test", max_characters=1000, block_size=512)
    with pytest.raises(PretrainError, match="raise max_characters or lower block_size"):
        pretrain(plan, tmp_path)


def test_a_checkpoint_that_does_not_fit_the_tokenizer_is_refused():
    small = train_tokenizer(["社區長照"], vocab_size=100)
    large = train_tokenizer(["社區長照據點今天開幕，長輩們很開心。志工熱心服務"], vocab_size=100)
    model = tiny_gpt2(small, ModelShape(n_layer=1, n_embd=16, n_head=2, n_positions=64))
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
