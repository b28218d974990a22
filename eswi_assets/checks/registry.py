"""Every asset check of the code location, by asset: the one place assets, sensors and gates
look up which checks an asset has and which of them block."""

from __future__ import annotations

import dagster as dg

from eswi_assets.checks import corpus_checks, label_checks, model_checks
from eswi_assets.checks.base import Check
from eswi_assets.keys import LABELED_SENTIMENT

REGISTRY: dict[str, tuple[Check, ...]] = {
    **corpus_checks.CHECKS,
    LABELED_SENTIMENT: label_checks.CHECKS,
    **model_checks.CHECKS,
}


def checks_of(asset: str) -> tuple[Check, ...]:
    return REGISTRY[asset]


def check_specs(
    asset: str, partitions_def: dg.PartitionsDefinition | None = None
) -> list[dg.AssetCheckSpec]:
    """The asset's checks, partitioned like it (each crawl date gets its own result)."""
    return [check.spec(partitions_def) for check in REGISTRY[asset]]


def blocking_check_names(asset: str) -> list[str]:
    """The checks of `asset` that must pass before anything downstream may use it."""
    return [check.name for check in REGISTRY[asset] if check.blocking]
