"""Blocking checks that hold across runs: which partitions of an input may be trained on.

A blocking check stops only the later steps of its own run; the models train in other runs and
read every partition. `gate` asks the instance, per partition, for the latest evaluation of each
blocking check of the input: a partition is used only if every one passed on its latest
materialization; any other partition is left out with the reason, so a corpus date that failed
`pii_residue` (or was re-materialized and never checked) never reaches training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from eswi_assets.training.data import TrainingDataError

PASSED = "SUCCEEDED"  # AssetCheckExecutionRecordStatus of a passing evaluation
PLANNED = "PLANNED"  # ... of a check a run has yet to evaluate


@dataclass(frozen=True)
class Gate:
    """Partitions of one input that may be used, and the others with why they were left out."""

    used: list[str]
    left_out: dict[str, str] = field(default_factory=dict)
    # Left out because a run is still evaluating a check: its result is yet to come.
    pending: set[str] = field(default_factory=set)

    def metadata(self) -> dict[str, dg.MetadataValue]:
        return {
            "partitions_used": dg.MetadataValue.int(len(self.used)),
            "partitions_left_out": dg.MetadataValue.json(self.left_out),
        }


def in_flight(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether run `run_id` may still record results (a crashed run never will)."""
    run = instance.get_run_by_id(run_id)
    return run is not None and not run.is_finished


def gate(
    instance: dg.DagsterInstance, asset: str, checks: Sequence[str], partitions: Sequence[str]
) -> Gate:
    """Which of `partitions` passed every check in `checks` on their latest materialization."""
    if not checks:
        return Gate(list(partitions))
    keys = [dg.AssetCheckKey(dg.AssetKey(asset), name) for name in checks]
    infos = instance.event_log_storage.get_asset_check_partition_info(
        keys, partition_keys=list(partitions)
    )
    latest = {(info.partition_key, info.check_key.name): info for info in infos}
    # A check this instance has never recorded for any partition is not in use here (an asset
    # without it stored the data, as in tests of the models alone): it gates nothing.
    recorded = {
        info.check_key.name
        for info in instance.event_log_storage.get_asset_check_partition_info(keys)
    }
    checks = [name for name in checks if name in recorded]
    used, left_out, pending = [], {}, set()
    for partition in partitions:
        reasons = []
        for name in checks:
            info = latest.get((partition, name))
            if info is None:
                reasons.append(f"{name} never evaluated")
            elif info.latest_execution_status.value != PASSED:
                reasons.append(f"{name} {info.latest_execution_status.value.lower()}")
                if info.latest_execution_status.value == PLANNED and in_flight(
                    instance, info.latest_planned_run_id
                ):
                    pending.add(partition)
            elif (info.latest_materialization_storage_id or 0) > info.latest_check_event_storage_id:
                reasons.append(f"{name} not evaluated on the latest materialization")
        if reasons:
            left_out[partition] = "; ".join(reasons)
        else:
            used.append(partition)
    return Gate(used, left_out, pending)


def gated_frame(
    context: dg.AssetExecutionContext,
    asset: str,
    checks: Sequence[str],
    df: pd.DataFrame,
    column: str = "partition_date",
) -> tuple[pd.DataFrame, Gate]:
    """The rows of `df` (all partitions of `asset`) from partitions that passed `checks` (its
    blocking checks). Raises when every partition was left out, naming why."""
    days = pd.to_datetime(df[column]).dt.strftime("%Y-%m-%d")
    partitions = sorted(set(days))
    result = gate(context.instance, asset, checks, partitions)
    if result.left_out:
        context.log.warning(f"{asset}: left out {result.left_out}")
    if partitions and not result.used:
        raise TrainingDataError(
            f"no {asset} partition passed its blocking checks: {result.left_out}"
        )
    kept = df[days.isin(result.used)]
    return kept.reset_index(drop=True), result
