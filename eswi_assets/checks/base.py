"""What every asset check is: a name, the asset it guards, a plain function computing a
`CheckOutcome`, a description and whether it blocks; and how an outcome becomes the event
Dagster records. Data, label and model checks all use these, so a check reads the same in the
UI wherever it comes from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict and the numbers behind it; `severity` None: ERROR if blocking, else WARN;
    `description` says in a line why it failed (the run summary prints it)."""

    passed: bool
    metadata: dict[str, Any]
    severity: dg.AssetCheckSeverity | None = None
    description: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    asset: str
    fn: Callable[..., CheckOutcome]
    description: str
    blocking: bool = False

    def severity(self, outcome: CheckOutcome) -> dg.AssetCheckSeverity:
        if outcome.severity is not None:
            return outcome.severity
        return dg.AssetCheckSeverity.ERROR if self.blocking else dg.AssetCheckSeverity.WARN

    def spec(self, partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            description=self.description,
            blocking=self.blocking,
            partitions_def=partitions_def,
        )

    def result(self, outcome: CheckOutcome) -> dg.AssetCheckResult:
        """For a check evaluated in its asset's step (unpartitioned assets)."""
        return dg.AssetCheckResult(
            check_name=self.name,
            asset_key=self.asset,
            passed=bool(outcome.passed),
            severity=self.severity(outcome),
            metadata=outcome.metadata,
            description=outcome.description,
        )

    def evaluation(self, outcome: CheckOutcome, partition: str | None) -> dg.AssetCheckEvaluation:
        """For one partition of a partitioned asset (a range run records each date alone)."""
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(self.asset),
            check_name=self.name,
            passed=bool(outcome.passed),
            severity=self.severity(outcome),
            metadata=outcome.metadata,
            description=outcome.description,
            blocking=self.blocking,
            partition=partition,
        )


def conditions_outcome(conditions: dict[str, bool], metadata: dict[str, Any]) -> CheckOutcome:
    """A check made of named conditions: it fails naming each one that does not hold."""
    failed = [name for name, ok in conditions.items() if not ok]
    return CheckOutcome(
        passed=not failed,
        metadata={**metadata, **{f"ok_{name}": ok for name, ok in conditions.items()}},
        severity=dg.AssetCheckSeverity.ERROR,
        description="failed: " + ", ".join(failed) if failed else "all conditions met",
    )
