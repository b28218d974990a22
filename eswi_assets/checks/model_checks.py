"""Model checks: an unreadable SFT model, a reward model that can be gamed, or a PPO policy that
fooled only its own reward model must not reach users.

All are blocking: a failing check stops the steps downstream, and the asset also keeps the
failing version out of the model store's `LATEST`, so serving never loads it. The checks are
plain functions of the step's metrics and its run config, which holds every model threshold
(an operator may tighten one for a run), testable without training anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from eswi_assets.checks.base import Check, CheckOutcome, conditions_outcome
from eswi_assets.keys import PPO_MODEL, REWARD_MODEL, SFT_MODEL

SFT_GUARD = "beats_bigram_whole_characters_no_regression"
REWARD_GUARD = "held_out_accuracy_and_adversarial_probes"
PPO_GUARD = "judge_gain_bounded_kl_no_degeneration"


class SftBar(Protocol):
    """The SFT check's thresholds (`assets.models.params.SftParams` holds them)."""

    min_gain_over_bigram: float
    max_broken_share: float
    regression_tolerance: float


class RewardBar(Protocol):
    """The reward check's thresholds (`assets.models.params.RewardParams`)."""

    min_label_accuracy: float
    probes_block: bool


class PpoBar(Protocol):
    """The PPO check's thresholds (`assets.models.params.PpoParams`)."""

    min_judge_gain: float
    min_judge_gain_low: float
    max_kl_per_token: float
    min_distinct_2_ratio: float
    max_repeated_4gram_ratio: float
    max_broken_share: float


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def sft_guard(
    metrics: Mapping[str, float], bar: SftBar, previous: Mapping[str, float] | None
) -> CheckOutcome:
    ce = float(metrics["eval_ce_per_char"])
    bigram = float(metrics["bigram_ce_per_char"])
    before = float((previous or {}).get("eval_ce_per_char", float("nan")))
    conditions = {
        "beats_bigram": _finite(ce) and ce < bigram - bar.min_gain_over_bigram,
        "whole_characters": float(metrics["sample_broken_char_share"]) <= bar.max_broken_share,
        "no_regression": not _finite(before) or ce <= before * (1 + bar.regression_tolerance),
    }
    return conditions_outcome(
        conditions,
        {"eval_ce_per_char": ce, "bigram_ce_per_char": bigram, "previous_ce_per_char": before},
    )


def reward_guard(metrics: Mapping[str, float], bar: RewardBar) -> CheckOutcome:
    accuracy = float(metrics.get("label_accuracy", float("nan")))
    conditions = {
        "label_accuracy": _finite(accuracy) and accuracy >= bar.min_label_accuracy,
        "probe_pairs_in_order": bool(metrics["probe_order_ok"]),
        "repetition_probe": bool(metrics["repetition_probe_ok"]) or not bar.probes_block,
        "length_probe": bool(metrics["length_probe_ok"]) or not bar.probes_block,
    }
    return conditions_outcome(
        conditions,
        {"label_accuracy": accuracy, "min_label_accuracy": bar.min_label_accuracy},
    )


def ppo_guard(metrics: Mapping[str, float], bar: PpoBar) -> CheckOutcome:
    gain, low = float(metrics["judge_gain"]), float(metrics["judge_gain_low"])
    kl = float(metrics["kl_per_token"])
    distinct_ratio = metrics["ppo_distinct_2"] / max(metrics["sft_distinct_2"], 1e-9)
    # A floor of 0.05 keeps a clean SFT (no repeats at all) from making any repeat a failure.
    repeat_bar = max(metrics["sft_repeated_4gram_share"], 0.05) * bar.max_repeated_4gram_ratio
    conditions = {
        "judge_gain": _finite(gain) and gain >= bar.min_judge_gain,
        "judge_interval_above_zero": _finite(low) and low > bar.min_judge_gain_low,
        "kl_per_token": _finite(kl) and kl <= bar.max_kl_per_token,
        "distinct_2": distinct_ratio >= bar.min_distinct_2_ratio,
        "repeated_4grams": metrics["ppo_repeated_4gram_share"] <= repeat_bar,
        "whole_characters": metrics["ppo_broken_char_share"] <= bar.max_broken_share,
    }
    return conditions_outcome(
        conditions,
        {
            "judge_gain": gain,
            "judge_gain_low": low,
            "judge_gain_high": float(metrics["judge_gain_high"]),
            "min_judge_gain": bar.min_judge_gain,
            "kl_per_token": kl,
            "max_kl_per_token": bar.max_kl_per_token,
            "distinct_2_ratio": float(distinct_ratio),
        },
    )


CHECKS: dict[str, tuple[Check, ...]] = {
    SFT_MODEL: (
        Check(
            SFT_GUARD,
            SFT_MODEL,
            sft_guard,
            "Held-out cross-entropy per character below the character-bigram baseline's, no "
            "broken character in samples, and no regression beyond a tolerance against LATEST.",
            blocking=True,
        ),
    ),
    REWARD_MODEL: (
        Check(
            REWARD_GUARD,
            REWARD_MODEL,
            reward_guard,
            "Held-out pairwise accuracy on label pairs at or above the bar, fixed probe pairs in "
            "order, and no phrase repeated N times or padded text outscoring a genuine text.",
            blocking=True,
        ),
    ),
    PPO_MODEL: (
        Check(
            PPO_GUARD,
            PPO_MODEL,
            ppo_guard,
            "The independent judge's (pysenti lexicon) target-sentiment rate rises over SFT by "
            "the margin with the paired bootstrap interval above 0, KL per token bounded, and "
            "distinct-2 / repeated 4-grams / broken characters within set factors of SFT's.",
            blocking=True,
        ),
    ),
}


def model_check(asset: str) -> Check:
    """The one blocking check of a model asset."""
    (check,) = CHECKS[asset]
    return check
