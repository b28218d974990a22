"""Declarative automation: a new `raw_pages` partition brings `cleaned_corpus` up to date.

`cleaned_corpus` gets `AutomationCondition.eager()` from this sensor (its `default_condition`,
so the asset module stays free of automation): when a `raw_pages` partition of the latest crawl
date is materialized and its `cleaned_corpus` partition is not, not in progress and not already
requested, the sensor requests that one partition. Older dates are left to backfills
(`eager()` looks at the latest time window only), and the models are left to `training_sensor`,
which waits for enough new data instead of retraining on every crawl.
"""

from __future__ import annotations

import dagster as dg

from eswi_assets.keys import CLEANED_CORPUS
from eswi_assets.settings import Settings


def build_automation_sensors(settings: Settings) -> list[dg.AutomationConditionSensorDefinition]:
    return [
        dg.AutomationConditionSensorDefinition(
            "corpus_automation_sensor",
            # Its checks run inside the asset's own step; automated apart they would be
            # requested again for every partition whose run reported no evaluation yet.
            target=dg.AssetSelection.assets(CLEANED_CORPUS).without_checks(),
            default_condition=dg.AutomationCondition.eager(),
            # default_condition needs evaluation in the code server; it also keeps the condition
            # in this code location rather than in the daemon.
            use_user_code_server=True,
            minimum_interval_seconds=settings.sensor_interval_seconds,
            default_status=dg.DefaultSensorStatus.RUNNING,
            description="Cleans each newly crawled raw_pages partition (eager on cleaned_corpus).",
        )
    ]
