"""`feedback_sensor` against a store that keeps the feedback contract (seq, first_seq, kinds)
and a real DagsterInstance; an unreachable store is a real SQLite file that cannot open."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from eswi_assets.jobs import FEEDBACK_JOB, TRAINING_JOB
from eswi_assets.sensors.feedback import build_feedback_sensor
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.automation.standins import queue_run, standin_definitions
from eswi_assets_tests.feedback_frames import FrameFeedbackStore

THRESHOLD = 5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, retrain_min_new_units=THRESHOLD)


@pytest.fixture
def store() -> FrameFeedbackStore:
    return FrameFeedbackStore()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def rate(store: FrameFeedbackStore, n: int, start: int = 0, value: int | None = None) -> None:
    """Ratings of answers f<start>..; an existing id is a re-rating of that answer."""
    store.add(
        [
            {
                "feedback_id": f"f{i}",
                "generation_id": f"g{i}",
                "model_version": "ppo_model@v1",
                "prompt": "標題：社區共餐",
                "response": "長輩們一起吃飯，氣氛溫暖。",
                "rating": value or 1 + i % 5,
                "user_hash": f"U{i}",
                "channel": "line",
            }
            for i in range(start, start + n)
        ]
    )


def compare(store: FrameFeedbackStore, choices: list[str], start: int = 100) -> None:
    store.add(
        [
            {
                "feedback_id": f"c{start + i}",
                "kind": "comparison",
                "prompt": "標題：社區共餐",
                "response": "氣氛溫暖。",
                "other_response": "普通。",
                "choice": choice,
                "user_hash": f"U{i}",
            }
            for i, choice in enumerate(choices)
        ]
    )


def tick(
    settings: Settings,
    instance: dg.DagsterInstance,
    store: FeedbackStore,
    cursor: str | None,
    *,
    with_rating_table: bool = True,
) -> dg.SensorExecutionData:
    sensor = build_feedback_sensor(settings)
    defs = standin_definitions(settings, with_rating_table=with_rating_table, sensors=[sensor])
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"feedback_store": store},
        definitions=defs,
    )
    return sensor.evaluate_tick(context)


def selected(data: dg.SensorExecutionData) -> list[list[str]]:
    return [sorted(k.to_user_string() for k in r.asset_selection) for r in data.run_requests]


def test_below_threshold_refreshes_rating_table_only_and_counts_toward_retrain(
    settings, instance, store
):
    rate(store, 3)
    data = tick(settings, instance, store, None)
    assert selected(data) == [["rating_table"]]
    assert data.run_requests[0].run_key == "ratings-0-3"
    assert json.loads(data.cursor) == {"seq": 3, "since_retrain": 3}

    again = tick(settings, instance, store, data.cursor)
    assert again.run_requests == [] and "no new feedback after seq 3" in again.skip_message
    assert again.cursor == data.cursor


def test_crossing_the_threshold_retrains_reward_and_ppo_in_one_run_and_resets_the_count(
    settings, instance, store
):
    rate(store, 3)
    first = tick(settings, instance, store, None)
    rate(store, 2, start=3)
    second = tick(settings, instance, store, first.cursor)
    assert selected(second) == [["ppo_model", "rating_table", "reward_model"]]
    assert second.run_requests[0].run_key == "retrain-3-5"
    assert json.loads(second.cursor) == {"seq": 5, "since_retrain": 0}

    rate(store, 1, start=5)
    third = tick(settings, instance, store, second.cursor)
    assert selected(third) == [["rating_table"]]
    assert json.loads(third.cursor) == {"seq": 6, "since_retrain": 1}


def test_a_backlog_far_past_the_threshold_is_one_run(settings, instance, store):
    rate(store, 40)
    data = tick(settings, instance, store, json.dumps({"seq": 0, "since_retrain": 0}))
    assert len(data.run_requests) == 1
    assert selected(data) == [["ppo_model", "rating_table", "reward_model"]]


def test_queued_training_run_holds_the_retrain_but_keeps_the_count(settings, instance, store):
    defs = standin_definitions(settings)
    queued = queue_run(instance, defs, TRAINING_JOB)
    rate(store, 8)
    held = tick(settings, instance, store, None)
    assert selected(held) == [["rating_table"]]
    assert json.loads(held.cursor) == {"seq": 8, "since_retrain": 8}

    instance.report_run_canceled(queued)
    rate(store, 1, start=8)
    released = tick(settings, instance, store, held.cursor)
    assert selected(released) == [["ppo_model", "rating_table", "reward_model"]]


def test_a_held_retrain_fires_once_the_running_training_run_ends_without_a_new_rating(
    settings, instance, store
):
    running = queue_run(
        instance, standin_definitions(settings), TRAINING_JOB, status=dg.DagsterRunStatus.STARTED
    )
    rate(store, THRESHOLD + 1)
    held = tick(settings, instance, store, None)
    assert selected(held) == [["rating_table"]]
    assert json.loads(held.cursor) == {"seq": THRESHOLD + 1, "since_retrain": THRESHOLD + 1}

    still = tick(settings, instance, store, held.cursor)
    assert still.run_requests == []
    assert (
        f"retrain waits: {TRAINING_JOB} run {running.run_id[:8]} is started" in still.skip_message
    )

    instance.report_run_failed(running)
    released = tick(settings, instance, store, held.cursor)
    assert selected(released) == [["ppo_model", "rating_table", "reward_model"]]
    assert released.run_requests[0].run_key == f"retrain-held-{THRESHOLD + 1}"
    assert json.loads(released.cursor) == {"seq": THRESHOLD + 1, "since_retrain": 0}

    after = tick(settings, instance, store, released.cursor)
    assert after.run_requests == [] and "no new feedback" in after.skip_message


def test_a_rating_table_only_run_in_flight_does_not_hold_the_retrain(settings, instance, store):
    defs = standin_definitions(settings)
    queue_run(
        instance,
        defs,
        FEEDBACK_JOB,
        status=dg.DagsterRunStatus.STARTED,
        asset_selection={dg.AssetKey("rating_table")},
    )
    rate(store, THRESHOLD)
    data = tick(settings, instance, store, None)
    assert selected(data) == [["ppo_model", "rating_table", "reward_model"]]


def test_unreachable_store_is_a_skip_naming_it_and_keeps_the_cursor(settings, instance, tmp_path):
    broken = SqliteFeedbackStore(path=str(tmp_path), salt="x")  # a directory: cannot be opened
    cursor = json.dumps({"seq": 7, "since_retrain": 2})
    data = tick(settings, instance, broken, cursor)
    assert data.run_requests == []
    assert f"SqliteFeedbackStore at {tmp_path}" in data.skip_message
    assert "unreachable" in data.skip_message and "cursor kept at seq 7" in data.skip_message
    assert data.cursor == cursor


def test_cursor_past_the_end_of_a_reset_store_is_moved_back_without_runs(settings, instance, store):
    rate(store, 3)
    data = tick(settings, instance, store, json.dumps({"seq": 500, "since_retrain": 4}))
    assert data.run_requests == []
    assert "ends at seq 3, before the cursor (500)" in data.skip_message
    assert json.loads(data.cursor) == {"seq": 3, "since_retrain": 0}

    rate(store, 2, start=3)
    after = tick(settings, instance, store, data.cursor)
    assert [r.run_key for r in after.run_requests] == ["ratings-3-5"]


def test_idle_store_with_cursor_at_its_end_is_not_mistaken_for_a_reset(settings, instance, store):
    rate(store, 3)
    data = tick(settings, instance, store, json.dumps({"seq": 3, "since_retrain": 3}))
    assert data.run_requests == [] and "no new feedback" in data.skip_message


def test_without_rating_table_defined_only_the_retrain_is_requested(settings, instance, store):
    rate(store, 2)
    below = tick(settings, instance, store, None, with_rating_table=False)
    assert below.run_requests == []
    assert "rating_table is not defined" in below.skip_message
    assert json.loads(below.cursor) == {"seq": 2, "since_retrain": 2}

    rate(store, 3, start=2)
    above = tick(settings, instance, store, below.cursor, with_rating_table=False)
    assert selected(above) == [["ppo_model", "reward_model"]]


def test_re_ratings_refresh_the_table_but_count_toward_retrain_once(settings, instance, store):
    rate(store, 3)
    first = tick(settings, instance, store, None)
    rate(store, 3, value=5)  # the same three answers rated again
    again = tick(settings, instance, store, first.cursor)
    assert selected(again) == [["rating_table"]]
    assert json.loads(again.cursor) == {"seq": 6, "since_retrain": 3}
    for _ in range(5):
        rate(store, 3, value=1)
        again = tick(settings, instance, store, again.cursor)
    assert selected(again) == [["rating_table"]]
    assert json.loads(again.cursor)["since_retrain"] == 3


def test_clear_comparisons_count_and_both_bad_does_not(settings, instance, store):
    compare(store, ["first", "both_bad", "second", "both_bad"])
    data = tick(settings, instance, store, None)
    assert selected(data) == [["rating_table"]]
    assert json.loads(data.cursor) == {"seq": 4, "since_retrain": 2}
    assert data.run_requests[0].tags["eswi/new_comparisons"] == "2"

    compare(store, ["second", "first"], start=200)
    rate(store, 1)
    retrain = tick(settings, instance, store, data.cursor)
    assert selected(retrain) == [["ppo_model", "rating_table", "reward_model"]]
    tags = retrain.run_requests[0].tags
    assert (tags["eswi/new_units"], tags["eswi/new_comparisons"], tags["eswi/new_ratings"]) == (
        "3",
        "2",
        "1",
    )


def test_the_threshold_is_read_from_its_old_environment_variable_too(monkeypatch, tmp_path):
    monkeypatch.setenv("ESWI_RETRAIN_MIN_NEW_RATINGS", "7")
    assert Settings(data_dir=tmp_path).retrain_min_new_units == 7
    monkeypatch.setenv("ESWI_RETRAIN_MIN_NEW_UNITS", "9")
    assert Settings(data_dir=tmp_path).retrain_min_new_units == 9
