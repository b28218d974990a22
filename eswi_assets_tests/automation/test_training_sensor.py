"""`training_sensor` against a real DagsterInstance holding real materializations."""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg
import pytest

from eswi_assets.jobs import FULL_PIPELINE, TRAINING_JOB
from eswi_assets.partitions import crawl_date_partitions
from eswi_assets.sensors.training import build_training_sensor
from eswi_assets.settings import Settings
from eswi_assets_tests.automation.standins import (
    CONTENT_TAG,
    DOCS_PER_DAY,
    queue_run,
    standin_definitions,
)

MIN_DOCUMENTS = 25
MIN_LABELS = 100


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        retrain_min_new_documents=MIN_DOCUMENTS,
        retrain_min_new_labels=MIN_LABELS,
    )


@pytest.fixture
def defs(settings) -> dg.Definitions:
    return standin_definitions(settings)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def tick(settings, instance, cursor: str | None) -> dg.SensorExecutionData:
    sensor = build_training_sensor(settings)
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def crawl(
    defs: dg.Definitions, instance: dg.DagsterInstance, *dates: str, content: str | None = None
) -> None:
    """A real crawl_job run over `dates` (one date, or a range as one run); `content` names
    what every date holds (default: each date its own new documents)."""
    tags = {
        "dagster/asset_partition_range_start": dates[0],
        "dagster/asset_partition_range_end": dates[-1],
    } | ({CONTENT_TAG: content} if content else {})
    result = defs.resolve_job_def("crawl_job").execute_in_process(instance=instance, tags=tags)
    assert result.success


def report_labels(instance: dg.DagsterInstance, rows: int) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization("labeled_sentiment", metadata={"dagster/row_count": rows})
    )


def state(data: dg.SensorExecutionData) -> dict[str, int]:
    return json.loads(data.cursor)


def test_new_partitions_request_training_once_enough_documents_arrived(settings, defs, instance):
    crawl(defs, instance, "2026-11-01")
    below = tick(settings, instance, None)
    assert below.run_requests == []
    assert f"{DOCS_PER_DAY}/{MIN_DOCUMENTS} new documents" in below.skip_message
    assert state(below)["new_documents"] == DOCS_PER_DAY

    same = tick(settings, instance, below.cursor)
    assert same.run_requests == [] and same.cursor == below.cursor

    crawl(defs, instance, "2026-11-02")
    crawl(defs, instance, "2026-11-03")
    fired = tick(settings, instance, below.cursor)
    [request] = fired.run_requests
    assert request.run_key.startswith("train-corpus")
    assert request.tags["eswi/new_documents"] == str(3 * DOCS_PER_DAY)
    assert state(fired)["new_documents"] == 0

    again = tick(settings, instance, fired.cursor)
    assert again.run_requests == [] and "0/25 new documents" in again.skip_message


def test_a_ranged_run_counts_its_documents_once_not_once_per_date(settings, defs, instance):
    crawl(defs, instance, "2026-11-01", "2026-11-02")  # one run, two materializations
    data = tick(settings, instance, None)
    assert state(data)["new_documents"] == 2 * DOCS_PER_DAY
    assert data.run_requests == []


def test_growth_of_the_label_table_alone_can_trigger_training(settings, instance):
    report_labels(instance, 80)
    first = tick(settings, instance, None)
    assert first.run_requests == [] and state(first)["new_labels"] == 80
    report_labels(instance, 150)
    second = tick(settings, instance, first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].tags["eswi/new_labels"] == "150"
    report_labels(instance, 170)
    third = tick(settings, instance, second.cursor)
    assert third.run_requests == [] and state(third)["new_labels"] == 20


def test_switching_back_on_after_a_long_pause_requests_one_run(settings, instance):
    partitions = crawl_date_partitions(settings)
    for day in partitions.get_partition_keys()[:21]:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                "cleaned_corpus", partition=day, metadata={"dagster/row_count": DOCS_PER_DAY}
            )
        )
    report_labels(instance, 600)
    data = tick(settings, instance, None)
    assert len(data.run_requests) == 1
    assert state(data) | {"corpus_after": 0, "labels_after": 0} == {
        "corpus_after": 0,
        "labels_after": 0,
        "labels_total": 600,
        "new_documents": 0,
        "new_labels": 0,
    }


@pytest.mark.parametrize("job_name", [TRAINING_JOB, FULL_PIPELINE])
def test_queued_or_running_training_run_blocks_further_requests(settings, defs, instance, job_name):
    queued = queue_run(instance, defs, job_name)
    crawl(defs, instance, "2026-11-01", "2026-11-03")
    held = tick(settings, instance, None)
    assert held.run_requests == []
    assert f"{job_name} run {queued.run_id[:8]} is queued" in held.skip_message
    assert state(held)["new_documents"] == 3 * DOCS_PER_DAY  # counted, not lost

    instance.report_run_canceled(queued)
    released = tick(settings, instance, held.cursor)
    assert len(released.run_requests) == 1


def test_a_ui_materialization_of_a_model_counts_as_training_in_flight(settings, defs, instance):
    from dagster._core.definitions.assets.job.asset_job import IMPLICIT_ASSET_JOB_NAME

    started = queue_run(
        instance,
        defs,
        IMPLICIT_ASSET_JOB_NAME,
        status=dg.DagsterRunStatus.STARTED,
        asset_selection={dg.AssetKey("sft_model")},
    )
    crawl(defs, instance, "2026-11-01", "2026-11-03")
    held = tick(settings, instance, None)
    assert held.run_requests == [] and started.run_id[:8] in held.skip_message


def test_recrawled_unchanged_pages_count_zero_and_do_not_trigger_training(settings, defs, instance):
    crawl(defs, instance, "2026-11-01", content="site-v1")
    first = tick(settings, instance, None)
    assert state(first)["new_documents"] == DOCS_PER_DAY

    crawl(defs, instance, "2026-11-02", "2026-11-05", content="site-v1")  # same pages, 4 dates
    crawl(defs, instance, "2026-11-01", content="site-v1")  # and the first date again
    again = tick(settings, instance, first.cursor)
    assert again.run_requests == []
    assert state(again)["new_documents"] == DOCS_PER_DAY
    assert state(again)["corpus_after"] > state(first)["corpus_after"]

    crawl(defs, instance, "2026-11-06", content="site-v2")  # edited pages
    crawl(defs, instance, "2026-11-07", content="site-v3")
    fired = tick(settings, instance, again.cursor)
    assert len(fired.run_requests) == 1
    assert fired.run_requests[0].tags["eswi/new_documents"] == str(3 * DOCS_PER_DAY)


def test_a_cursor_from_an_older_version_is_read_not_lost(settings, defs, instance):
    crawl(defs, instance, "2026-11-01")
    old = json.dumps({"corpus_after": 0, "new_documents": 7, "retired_field": 3})
    data = tick(settings, instance, old)
    assert state(data)["new_documents"] == 7 + DOCS_PER_DAY
    assert "retired_field" not in state(data)
    bare = tick(settings, instance, "0")  # a one-counter cursor: the first field
    assert state(bare)["corpus_after"] == state(data)["corpus_after"]


def test_a_cursor_that_cannot_be_read_fails_the_tick_with_its_text(settings, instance):
    with pytest.raises(Exception, match="TrainingCursor 'not json' is not valid"):
        tick(settings, instance, "not json")
