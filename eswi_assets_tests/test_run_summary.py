"""The main command's verdict: a model gate that rejects a candidate is reported and accepted;
a crash or a data gate is a failure."""

from __future__ import annotations

import dagster as dg

from eswi_assets.run_summary import summarize

GATE = "quality_gate"


def gated_asset(name: str, passes: bool, crash: bool = False) -> dg.AssetsDefinition:
    @dg.asset(name=name, check_specs=[dg.AssetCheckSpec(GATE, asset=name, blocking=True)])
    def _asset():
        if crash:
            raise RuntimeError("disk full")
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name=GATE, passed=passes, description="failed: x")

    return _asset


def outcome(asset: dg.AssetsDefinition) -> tuple[list[str], bool]:
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], instance=instance, raise_on_error=False)
        return summarize(instance, result.run_id)


def test_a_model_gate_that_rejects_the_candidate_is_reported_and_accepted():
    lines, acceptable = outcome(gated_asset("ppo_model", passes=False))
    assert acceptable
    assert "check ppo_model:quality_gate FAILED (failed: x)" in lines
    assert "ppo_model: candidate kept out of LATEST by its quality gate" in lines


def test_a_crash_or_a_data_gate_fails_the_main_command():
    assert not outcome(gated_asset("ppo_model", passes=True, crash=True))[1]
    assert not outcome(gated_asset("cleaned_corpus", passes=False))[1]
    assert outcome(gated_asset("sft_model", passes=True))[1]
