"""`user_feedback` is observed when ratings change, keeps its owners and kinds, and a new rating
makes what reads it stale: on a real DagsterInstance and a real SQLite feedback store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver

from eswi_assets.assets.feedback import build_feedback_assets
from eswi_assets.keys import USER_FEEDBACK
from eswi_assets.sensors.observations import build_user_feedback_sensor
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import Feedback
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore

KEY = dg.AssetKey(USER_FEEDBACK)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> SqliteFeedbackStore:
    return SqliteFeedbackStore(path=str(tmp_path / "feedback.sqlite"), salt="test-salt")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def rate(store: SqliteFeedbackStore, n: int, start: int = 0) -> None:
    """`n` new ratings, each of another answer, through the store's own write path."""
    store.upsert(
        Feedback(
            feedback_id=f"g{i}",
            generation_id=f"g{i}",
            model_version="ppo_model/r1",
            prompt="標題：社區共餐\n摘要：\n內文：\n",
            response="大家吃得很開心。",
            rating=1 + i % 5,
            user_id=f"line:U{i}",
            channel="line",
        )
        for i in range(start, start + n)
    )


@dg.asset(deps=[USER_FEEDBACK])
def rating_table() -> None:
    """Stands in for the real rating_table: only its dependency on user_feedback matters."""


def definitions(settings: Settings, store: SqliteFeedbackStore) -> dg.Definitions:
    return dg.Definitions(
        assets=[*build_feedback_assets(settings), rating_table],
        sensors=[build_user_feedback_sensor(settings)],
        resources={"feedback_store": store},
    )


def tick(settings, instance, store, cursor: str | None) -> dg.SensorExecutionData:
    """One sensor tick; its observations are stored as the daemon stores them."""
    sensor = build_user_feedback_sensor(settings)
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"feedback_store": store}
    )
    data = sensor.evaluate_tick(context)
    for event in data.asset_events:
        instance.report_runless_asset_event(event)
    return data


def status(settings: Settings, instance: dg.DagsterInstance, key: str) -> StaleStatus:
    """What the UI shows for `key` (a fresh resolver: it caches what it read)."""
    resolver = get_stale_status_resolver(instance, [*build_feedback_assets(settings), rating_table])
    return resolver.get_status(dg.AssetKey(key))


def latest_version(instance: dg.DagsterInstance) -> str | None:
    record = instance.get_latest_data_version_record(KEY, is_source=True)
    return record.asset_observation.data_version if record else None


def test_user_feedback_keeps_its_owners_and_kinds(settings, store):
    node = definitions(settings, store).resolve_asset_graph().get(KEY)
    assert node.is_observable
    assert node.owners == ["team:ml-engineering"] and node.kinds == {"sqlite"}
    assert node.group_name == "models" and "ratings" in node.description


def test_a_new_rating_is_observed_as_a_new_data_version_and_makes_rating_table_stale(
    settings, instance, store
):
    rate(store, 3)
    first = tick(settings, instance, store, None)
    assert [e.asset_key for e in first.asset_events] == [KEY]
    assert latest_version(instance) == first.cursor == "3"
    assert dg.materialize([rating_table], instance=instance).success
    assert status(settings, instance, "rating_table") == StaleStatus.FRESH

    idle = tick(settings, instance, store, first.cursor)
    assert idle.asset_events == [] and "unchanged: 3 ratings, seq 3" in idle.skip_message

    rate(store, 1, start=3)
    second = tick(settings, instance, store, first.cursor)
    assert latest_version(instance) == second.cursor == "4"
    assert status(settings, instance, "rating_table") == StaleStatus.STALE


def test_the_observe_button_reports_the_same_version_as_the_sensor(settings, instance, store):
    rate(store, 2)
    job = definitions(settings, store).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, asset_selection=[KEY])
    assert result.success and latest_version(instance) == "2"


def test_an_unreachable_store_is_a_skip_that_keeps_the_last_version(settings, instance, tmp_path):
    broken = SqliteFeedbackStore(path=str(tmp_path), salt="x")  # a directory: cannot be opened
    data = tick(settings, instance, broken, "7")
    assert data.asset_events == [] and data.cursor == "7"
    assert "unreachable" in data.skip_message and "(7)" in data.skip_message
