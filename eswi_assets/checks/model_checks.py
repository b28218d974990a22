"""Model checks: a reward model that ranks sentiment the wrong way, or a PPO policy that drifted
too far from its reference or fooled only its own reward model, must not reach users.

Both are blocking: a failing check stops the steps downstream, and the asset also keeps the
failing version out of the model store's `LATEST`, so serving never loads it. The checks are
plain functions of the step's metrics, testable without training anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import dagster as dg

REWARD_MODEL = "reward_model"
PPO_MODEL = "ppo_model"
REWARD_DIRECTION = "probe_sentences_in_order"
PPO_GUARD = "kl_bounded_and_judge_improves"


def model_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    if asset == REWARD_MODEL:
        return [
            dg.AssetCheckSpec(
                REWARD_DIRECTION,
                asset=asset,
                blocking=True,
                description="Fixed sentences of the target sentiment outscore the others.",
            )
        ]
    return [
        dg.AssetCheckSpec(
            PPO_GUARD,
            asset=asset,
            blocking=True,
            description="KL to the SFT reference stays bounded and the independent sentiment "
            "judge (snownlp, never seen by PPO) rates PPO's held-out responses above SFT's.",
        )
    ]


def reward_direction(metrics: Mapping[str, float]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=REWARD_DIRECTION,
        passed=bool(metrics["probe_order_ok"]),
        metadata={"probe_gap": float(metrics["probe_gap"])},
    )


def ppo_guard(
    metrics: Mapping[str, float], max_kl: float, min_judge_gain: float
) -> dg.AssetCheckResult:
    kl = float(metrics["kl"])
    gain = float(metrics["judge_after"] - metrics["judge_before"])
    kl_ok = math.isfinite(kl) and kl <= max_kl
    judge_ok = math.isfinite(gain) and gain > min_judge_gain
    return dg.AssetCheckResult(
        check_name=PPO_GUARD,
        passed=kl_ok and judge_ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "kl": kl,
            "max_kl": max_kl,
            "kl_ok": kl_ok,
            "judge_gain": gain,
            "min_judge_gain": min_judge_gain,
            "judge_ok": judge_ok,
            "win_rate_judge": float(metrics["win_rate_judge"]),
        },
    )
