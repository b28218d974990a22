"""New feedback in the store refreshes `rating_table` and, past a threshold, retrains.

`feedback_sensor` keeps two numbers in its cursor (JSON): the store's `seq` it has read up to,
and how many *usable* feedback units arrived since it last requested a retrain
(`feedback_pairs.new_usable_units`): a comparison with a clear pick (one preference pair) or a
newly rated answer (a label the within-user pairing uses). A unit counts once, when it is first
stored (`first_seq`); re-ratings and changed picks move `seq` but add nothing, and `both_bad`
gives no pair. Each tick reads only rows after the cursor (`FeedbackStore.read_after`, never a
rescan) and, if there are any, requests one run of `feedback_job` with a run_key naming the
batch:

- `rating_table` alone, for any new or changed row;
- `reward_model`, `ppo_model` and `rating_table`, once `ESWI_RETRAIN_MIN_NEW_UNITS` usable units
  have arrived since the last retrain, and no training run is queued or running (else the count
  is kept and the retrain waits: the first tick that finds the GPU queue free requests it, with
  or without new feedback).

An unreachable store is a skip that names it (cursor unchanged). A cursor past the store's end
(the store was reset) is moved back to the end with a skip saying so: never a storm of runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import dagster as dg

from eswi_assets.jobs import FEEDBACK_JOB
from eswi_assets.keys import PPO_MODEL, RATING_TABLE, REWARD_MODEL
from eswi_assets.sensors.cursors import CounterCursor
from eswi_assets.sensors.gpu_queue import describe, training_run_in_flight
from eswi_assets.settings import Settings
from eswi_assets.stores.elasticsearch.index import ElasticsearchStoreError
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.training.feedback_pairs import COMPARISON, RATING, new_usable_units

READ_LIMIT = 10_000  # rows read per tick; a larger backlog is read over the next ticks
STORE_ERRORS = (OSError, sqlite3.Error, ElasticsearchStoreError)


@dataclass(frozen=True)
class FeedbackCursor(CounterCursor):
    seq: int = 0  # the store's seq read up to
    since_retrain: int = 0  # usable feedback units read since the last retrain request


def where(store: FeedbackStore) -> str:
    """The store, as a skip reason names it."""
    location = getattr(store, "url", None) or getattr(store, "path", None) or "?"
    return f"{type(store).__name__} at {location}"


def store_was_reset(store: FeedbackStore, cursor: int) -> int | None:
    """The store's largest seq if it is below `cursor` (the store was reset), else None.

    Called only when nothing follows the cursor. The probe reads the row at `seq == cursor`
    through the index (rows are never deleted, and a changed row moves to a larger seq, which
    the read before would have returned), so an idle tick stays as cheap as a busy one; only
    when that row is gone does it ask the store for its statistics.
    """
    if cursor <= 0 or len(store.read_after(cursor - 1, limit=1).rows):
        return None
    max_seq = store.stats().max_seq
    return max_seq if max_seq < cursor else None


def defined(context: dg.SensorEvaluationContext, keys: list[str]) -> list[dg.AssetKey]:
    """`keys` that this code location defines (all of them when evaluated without one)."""
    asset_keys = [dg.AssetKey(key) for key in keys]
    repository = context.repository_def
    if repository is None:
        return asset_keys
    graph = repository.asset_graph
    return [key for key in asset_keys if graph.has(key) and graph.get(key).is_executable]


def held_retrain(
    context: dg.SensorEvaluationContext, state: FeedbackCursor, threshold: int
) -> dg.SensorResult | dg.SkipReason:
    """The retrain an earlier tick held back for a training run in flight: requested as soon as
    the GPU queue is free, with no further rating needed; still held (count kept) while busy."""
    held = (
        f"{state.since_retrain}/{threshold} usable feedback units since the last retrain (up to "
        f"seq {state.seq})"
    )
    busy = training_run_in_flight(context.instance)
    if busy is not None:
        return dg.SkipReason(f"{held}; retrain waits: {describe(busy)}")
    keys = defined(context, [REWARD_MODEL, PPO_MODEL, RATING_TABLE])
    if not keys:
        return dg.SkipReason(f"{held}; {REWARD_MODEL} is not defined in this code location")
    context.log.info(f"{held}; the GPU queue is free, requesting the held retrain")
    request = dg.RunRequest(
        run_key=f"retrain-held-{state.seq}",
        asset_selection=keys,
        tags={"eswi/trigger": "feedback", "eswi/new_units": str(state.since_retrain)},
    )
    return dg.SensorResult(run_requests=[request], cursor=FeedbackCursor(state.seq, 0).dump())


def build_feedback_sensor(settings: Settings) -> dg.SensorDefinition:
    threshold = settings.retrain_min_new_units

    @dg.sensor(
        name="feedback_sensor",
        job_name=FEEDBACK_JOB,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        # Retrains on GPUs: an operator switches it on once the deployment is ready to train.
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Refreshes rating_table on new feedback; retrains reward_model and ppo_model "
        f"once {threshold} usable feedback units (comparisons with a clear pick, newly rated "
        "answers; re-ratings count once) have arrived since the last retrain.",
    )
    def feedback_sensor(
        context: dg.SensorEvaluationContext, feedback_store: dg.ResourceParam[FeedbackStore]
    ) -> dg.SensorResult | dg.SkipReason:
        state = FeedbackCursor.parse(context.cursor)
        try:
            batch = feedback_store.read_after(state.seq, limit=READ_LIMIT)
            reset_to = None if len(batch.rows) else store_was_reset(feedback_store, state.seq)
        except STORE_ERRORS as error:
            return dg.SkipReason(
                f"feedback store {where(feedback_store)} is unreachable ({error}); "
                f"cursor kept at seq {state.seq}"
            )
        if reset_to is not None:
            message = (
                f"feedback store {where(feedback_store)} ends at seq {reset_to}, before the "
                f"cursor ({state.seq}): it was reset or replaced; cursor moved to {reset_to}, "
                "feedback after it will count"
            )
            context.log.warning(message)
            return dg.SensorResult(skip_reason=message, cursor=FeedbackCursor(reset_to).dump())
        if not len(batch.rows):
            if state.since_retrain >= threshold:
                return held_retrain(context, state, threshold)
            return dg.SkipReason(
                f"no new feedback after seq {state.seq} in {where(feedback_store)}"
            )

        units = new_usable_units(batch.rows, state.seq)
        new = units.total()
        since = state.since_retrain + new
        busy = training_run_in_flight(context.instance) if since >= threshold else None
        retrain = since >= threshold and busy is None
        keys = defined(
            context, [REWARD_MODEL, PPO_MODEL, RATING_TABLE] if retrain else [RATING_TABLE]
        )
        status = (
            f"{len(batch.rows)} new or changed rows (seq {state.seq + 1}..{batch.cursor}): {new} "
            f"usable ({units[COMPARISON]} comparisons with a clear pick, {units[RATING]} new "
            f"ratings), {since}/{threshold} since the last retrain"
        )
        if busy is not None:
            status += f"; retrain waits: {describe(busy)}"
        cursor = FeedbackCursor(batch.cursor, 0 if retrain else since).dump()
        if not keys:
            return dg.SensorResult(
                skip_reason=f"{status}; {RATING_TABLE} is not defined in this code location",
                cursor=cursor,
            )
        context.log.info(f"{status}; requesting {', '.join(k.to_user_string() for k in keys)}")
        request = dg.RunRequest(
            run_key=f"{'retrain' if retrain else 'ratings'}-{state.seq}-{batch.cursor}",
            asset_selection=keys,
            tags={
                "eswi/trigger": "feedback",
                "eswi/new_units": str(new),
                "eswi/new_comparisons": str(units[COMPARISON]),
                "eswi/new_ratings": str(units[RATING]),
            },
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return feedback_sensor
