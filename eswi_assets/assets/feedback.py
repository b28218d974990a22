"""`user_feedback`: end users' ratings, written by the serving app, observed here from the store.

Dagster does not write this asset; an observation records how many ratings there are and the
newest one, and its data version (the store's largest `seq`) changes only when ratings change,
so `rating_table` and the models downstream go stale on new feedback and on nothing else.
`user_feedback_sensor` (sensors/observations.py) reports an observation whenever that version
moves; the asset's own observe function is the same report, for the UI's "Observe" button.

The asset is an `AssetSpec` under `multi_observable_source_asset`, because
`observable_source_asset` drops `owners` and `kinds`.
"""

import dagster as dg

from eswi_assets.keys import USER_FEEDBACK
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStats, FeedbackStore

OWNERS = ["team:ml-engineering"]


def feedback_spec(settings: Settings) -> dg.AssetSpec:
    return dg.AssetSpec(
        USER_FEEDBACK,
        group_name="models",
        owners=OWNERS,
        kinds={"elasticsearch" if settings.is_production else "sqlite"},
        description="End users' ratings (1-5) of generated texts, written by the serving app "
        "(HTTP API and LINE) into the feedback store; user ids only as salted hashes.",
    )


def feedback_version(stats: FeedbackStats) -> dg.DataVersion:
    """The store's largest seq: it grows with every new or changed rating, and only then."""
    return dg.DataVersion(str(stats.max_seq))


def feedback_metadata(stats: FeedbackStats) -> dict[str, dg.MetadataValue]:
    newest = stats.newest_created_at.isoformat() if stats.newest_created_at else "none yet"
    return {
        "ratings": dg.MetadataValue.int(stats.count),
        "newest_rating_at": dg.MetadataValue.text(newest),
        "max_seq": dg.MetadataValue.int(stats.max_seq),
    }


def build_feedback_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    @dg.multi_observable_source_asset(specs=[feedback_spec(settings)], name="observe_user_feedback")
    def user_feedback(feedback_store: dg.ResourceParam[FeedbackStore]) -> dg.ObserveResult:
        stats = feedback_store.stats()
        return dg.ObserveResult(
            asset_key=USER_FEEDBACK,
            data_version=feedback_version(stats),
            metadata=feedback_metadata(stats),
        )

    return [user_feedback]
