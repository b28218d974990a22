"""The independent judge and the blocking model checks, without training anything."""

from __future__ import annotations

import math

import numpy as np

from eswi_assets.checks.model_checks import ppo_guard, reward_direction
from eswi_assets.training.judge import judge

HAPPY = "服務很好，非常滿意，下次還會再來。"
ANGRY = "服務很差，非常失望，再也不會來了。"


def test_judge_reads_traditional_chinese_and_follows_the_target():
    positive = judge([HAPPY, ANGRY], "positive")
    negative = judge([HAPPY, ANGRY], "negative")
    assert positive[0] > 0.5 > positive[1]
    assert np.allclose(negative, 1 - positive)


def test_judge_is_neutral_on_empty_text():
    assert judge(["", "  "], "positive").tolist() == [0.5, 0.5]


def metrics(kl: float = 5.0, before: float = 0.4, after: float = 0.6) -> dict[str, float]:
    return {"kl": kl, "judge_before": before, "judge_after": after, "win_rate_judge": 0.7}


def test_ppo_check_passes_with_bounded_kl_and_a_better_judge_score():
    assert ppo_guard(metrics(), max_kl=25, min_judge_gain=0).passed


def test_ppo_check_fails_when_kl_explodes_or_is_not_a_number():
    assert not ppo_guard(metrics(kl=80), max_kl=25, min_judge_gain=0).passed
    assert not ppo_guard(metrics(kl=math.nan), max_kl=25, min_judge_gain=0).passed
    assert not ppo_guard(metrics(kl=math.inf), max_kl=25, min_judge_gain=0).passed


def test_ppo_check_fails_when_only_the_reward_model_is_pleased():
    result = ppo_guard(metrics(before=0.5, after=0.49), max_kl=25, min_judge_gain=0)
    assert not result.passed
    assert result.metadata["judge_ok"].value is False
    assert result.metadata["kl_ok"].value is True


def test_reward_check_fails_when_a_probe_pair_is_out_of_order():
    assert reward_direction({"probe_order_ok": 1.0, "probe_gap": 2.0}).passed
    assert not reward_direction({"probe_order_ok": 0.0, "probe_gap": 2.0}).passed
