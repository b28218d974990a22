"""Retrain the models once enough new data has arrived, not on every crawl.

`training_sensor` reads the materializations of `cleaned_corpus` and `labeled_sentiment` after
its cursor (event-log storage ids), adds up the new documents (content keys, a doc id with its
body's hash, that no earlier materialization listed: re-crawled unchanged pages count zero, and
dates failing a blocking check count nothing) and the growth of the label table, and requests
`training_job` once either passes its threshold (`ESWI_RETRAIN_MIN_NEW_DOCUMENTS`,
`ESWI_RETRAIN_MIN_NEW_LABELS`). At most one run per tick, none while a training run is queued
or running, and the run_key names the data it was triggered by, so a repeat is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import dagster as dg

from eswi_assets.checks import gates
from eswi_assets.checks.registry import blocking_check_names
from eswi_assets.jobs import TRAINING_JOB
from eswi_assets.keys import CLEANED_CORPUS, LABELED_SENTIMENT
from eswi_assets.sensors.cursors import CounterCursor
from eswi_assets.sensors.gpu_queue import describe, training_run_in_flight
from eswi_assets.settings import Settings

ROW_COUNT = "dagster/row_count"
CONTENT_KEYS = "content_keys"  # cleaned_corpus metadata: one key per (doc id, body) of a date
PAGE = 1000  # materializations read per query
MAX_PAGES = 20  # per tick; the rest is read on the next tick


@dataclass(frozen=True)
class TrainingCursor(CounterCursor):
    """What the sensor has read and counted since the last training run it requested."""

    corpus_after: int = 0  # storage id of the last cleaned_corpus materialization counted
    labels_after: int = 0  # storage id of the last labeled_sentiment materialization read
    labels_total: int = 0  # rows of labeled_sentiment as of that materialization
    new_documents: int = 0  # counted since the last training request
    new_labels: int = 0


def _row_count(record: dg.EventLogRecord) -> int:
    materialization = record.asset_materialization
    value = materialization.metadata.get(ROW_COUNT) if materialization else None
    return int(value.value) if value is not None else 0


def _materializations_after(
    instance: dg.DagsterInstance, key: str, after: int
) -> Iterator[dg.EventLogRecord]:
    records_filter = dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), after_storage_id=after)
    cursor = None
    for _ in range(MAX_PAGES):
        page = instance.fetch_materializations(records_filter, PAGE, cursor, ascending=True)
        yield from page.records
        if not page.has_more:
            return
        cursor = page.cursor


def _content_keys(record: dg.EventLogRecord) -> list[str] | None:
    materialization = record.asset_materialization
    value = materialization.metadata.get(CONTENT_KEYS) if materialization else None
    return list(value.value) if value is not None else None


def _partition(record: dg.EventLogRecord) -> str | None:
    materialization = record.asset_materialization
    return materialization.partition if materialization else None


def count_new_documents(
    instance: dg.DagsterInstance, after: int, blocking: list[str] | None = None
) -> tuple[int, int, dict[str, str]]:
    """(new documents, last storage id, partitions left out) over cleaned_corpus
    materializations after `after`.

    A materialization that lists its `content_keys` counts the keys no earlier materialization
    listed, so a re-crawl of unchanged pages counts zero. One from a partition whose latest
    `blocking` checks did not pass counts nothing (training would leave it out); one whose run
    is still evaluating them ends the read, to be counted on a later tick. An older one
    without keys counts its row count, once per run (range runs used to record the range's
    count on each date).
    """
    new = list(_materializations_after(instance, CLEANED_CORPUS, after))
    if not new:
        return 0, after, {}
    partitions = sorted({p for r in new if (p := _partition(r)) is not None})
    gate = gates.gate(instance, CLEANED_CORPUS, blocking or [], partitions)
    seen: set[str] = set()
    for record in _materializations_after(instance, CLEANED_CORPUS, 0):
        if record.storage_id > after:
            break
        seen.update(_content_keys(record) or [])
    documents, legacy, last = 0, {}, after
    for record in new:
        if _partition(record) in gate.pending:
            break  # its run is still checking it: read it again on a later tick
        last = record.storage_id
        keys = _content_keys(record)
        if _partition(record) in gate.left_out:
            continue
        if keys is None:
            run = record.run_id or f"runless-{record.storage_id}"
            legacy[run] = max(legacy.get(run, 0), _row_count(record))
            continue
        documents += len(set(keys) - seen)
        seen.update(keys)
    return documents + sum(legacy.values()), last, gate.left_out


def newest_label_total(instance: dg.DagsterInstance, after: int) -> tuple[int, int] | None:
    """(rows, storage id) of the newest labeled_sentiment materialization after `after`."""
    records_filter = dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(LABELED_SENTIMENT), after_storage_id=after
    )
    page = instance.fetch_materializations(records_filter, 1, ascending=False)
    if not page.records:
        return None
    newest = page.records[0]
    return _row_count(newest), newest.storage_id


def advance(
    instance: dg.DagsterInstance, state: TrainingCursor, blocking: list[str] | None = None
) -> tuple[TrainingCursor, dict[str, str]]:
    """The cursor after reading every new materialization (counts added, ids moved on), and
    the corpus partitions left out by their blocking checks."""
    documents, corpus_after, left_out = count_new_documents(instance, state.corpus_after, blocking)
    state = replace(state, corpus_after=corpus_after, new_documents=state.new_documents + documents)
    labels = newest_label_total(instance, state.labels_after)
    if labels is not None:
        total, labels_after = labels
        state = replace(
            state,
            labels_after=labels_after,
            labels_total=total,
            new_labels=state.new_labels + max(0, total - state.labels_total),
        )
    return state, left_out


def build_training_sensor(settings: Settings) -> dg.SensorDefinition:
    min_documents = settings.retrain_min_new_documents
    min_labels = settings.retrain_min_new_labels

    @dg.sensor(
        name="training_sensor",
        job_name=TRAINING_JOB,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        # Retrains on GPUs: stopped until an operator switches it on, so backfilling old crawl
        # dates into a new deployment does not start training on each batch.
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Requests training_job once {min_documents} new cleaned_corpus documents "
        f"or {min_labels} new labels have arrived since the last training request; one run at "
        "a time.",
    )
    def training_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        blocking = blocking_check_names(CLEANED_CORPUS)
        state, left_out = advance(context.instance, TrainingCursor.parse(context.cursor), blocking)
        seen = (
            f"{state.new_documents}/{min_documents} new documents, "
            f"{state.new_labels}/{min_labels} new labels since the last training request"
        )
        if left_out:
            seen += f" (not counted, blocking checks: {left_out})"
        if state.new_documents < min_documents and state.new_labels < min_labels:
            return dg.SensorResult(skip_reason=f"not enough new data: {seen}", cursor=state.dump())
        busy = training_run_in_flight(context.instance)
        if busy is not None:
            return dg.SensorResult(
                skip_reason=f"{seen}, but {describe(busy)}: waiting for it to finish",
                cursor=state.dump(),
            )
        context.log.info(f"requesting {TRAINING_JOB}: {seen}")
        request = dg.RunRequest(
            run_key=f"train-corpus{state.corpus_after}-labels{state.labels_after}",
            tags={
                "eswi/trigger": "new-data",
                "eswi/new_documents": str(state.new_documents),
                "eswi/new_labels": str(state.new_labels),
            },
        )
        return dg.SensorResult(
            run_requests=[request],
            cursor=replace(state, new_documents=0, new_labels=0).dump(),
        )

    return training_sensor
