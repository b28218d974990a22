"""`user_feedback`: end users' ratings, written by the serving app, observed here from the store.

Dagster does not write this asset; an observation records how many ratings there are and the
newest one, and its data version (the store's largest `seq`) changes only when ratings change,
so downstream staleness and automation react to new feedback and to nothing else.
"""

import dagster as dg

from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore

USER_FEEDBACK = "user_feedback"


def build_feedback_assets(settings: Settings) -> list[dg.SourceAsset]:
    @dg.observable_source_asset(
        name=USER_FEEDBACK,
        group_name="models",
        owners=["team:ml-engineering"],
        kinds={"elasticsearch" if settings.is_production else "sqlite"},
        description="End users' ratings (1-5) of generated texts, written by the serving app "
        "(HTTP API and LINE) into the feedback store; user ids only as salted hashes.",
    )
    def user_feedback(feedback_store: dg.ResourceParam[FeedbackStore]) -> dg.ObserveResult:
        stats = feedback_store.stats()
        newest = stats.newest_created_at.isoformat() if stats.newest_created_at else "none yet"
        return dg.ObserveResult(
            data_version=dg.DataVersion(str(stats.max_seq)),
            metadata={
                "ratings": dg.MetadataValue.int(stats.count),
                "newest_rating_at": dg.MetadataValue.text(newest),
                "max_seq": dg.MetadataValue.int(stats.max_seq),
            },
        )

    return [user_feedback]
