"""`user_feedback_sensor`: observes `user_feedback` whenever its ratings change.

The serving app writes ratings straight into the feedback store, so nothing in Dagster sees them
arrive. Each tick asks the store for its statistics (one cheap query, no run launched) and, when
the largest `seq` differs from the cursor, reports an observation whose data version is that
`seq`: `rating_table` and the models downstream then show as stale, and nothing else does.
"""

from __future__ import annotations

import dagster as dg

from eswi_assets.assets.feedback import feedback_metadata, feedback_version
from eswi_assets.keys import USER_FEEDBACK
from eswi_assets.sensors.feedback import STORE_ERRORS, where
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore

# The event tag Dagster reads an observation's data version from (what ObserveResult sets).
DATA_VERSION_TAG = "dagster/data_version"


def build_user_feedback_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name="user_feedback_sensor",
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Observes user_feedback (data version: the feedback store's largest seq) "
        "whenever ratings change, so rating_table and the models go stale.",
    )
    def user_feedback_sensor(
        context: dg.SensorEvaluationContext, feedback_store: dg.ResourceParam[FeedbackStore]
    ) -> dg.SensorResult | dg.SkipReason:
        try:
            stats = feedback_store.stats()
        except STORE_ERRORS as error:
            return dg.SkipReason(
                f"feedback store {where(feedback_store)} is unreachable ({error}); "
                f"last observed version kept ({context.cursor or 'none'})"
            )
        version = feedback_version(stats).value
        if version == context.cursor:
            return dg.SkipReason(f"{USER_FEEDBACK} unchanged: {stats.count} ratings, seq {version}")
        observation = dg.AssetObservation(
            USER_FEEDBACK, metadata=feedback_metadata(stats), tags={DATA_VERSION_TAG: version}
        )
        context.log.info(f"{USER_FEEDBACK}: {stats.count} ratings, data version {version}")
        return dg.SensorResult(asset_events=[observation], cursor=version)

    return user_feedback_sensor
