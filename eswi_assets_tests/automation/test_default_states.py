"""What a fresh deployment starts: sensors that only keep data up to date run, sensors that
launch GPU training wait for an operator, the crawl schedule waits to be switched on."""

from __future__ import annotations

import dagster as dg

from eswi_assets.definitions import build_definitions
from eswi_assets.settings import Settings

RUNNING = dg.DefaultSensorStatus.RUNNING
STOPPED = dg.DefaultSensorStatus.STOPPED
EXPECTED = {
    "corpus_automation_sensor": RUNNING,  # cleans the latest crawl date; backfills are untouched
    "doccano_annotations_sensor": RUNNING,  # refreshes labels (CPU), never trains
    "user_feedback_sensor": RUNNING,  # an observation, no run
    "training_sensor": STOPPED,  # GPU training
    "feedback_sensor": STOPPED,  # GPU retraining (and rating_table)
}


def test_sensors_that_train_wait_for_an_operator_and_the_rest_run(tmp_path):
    defs = build_definitions(Settings(data_dir=tmp_path))
    sensors = defs.get_repository_def().sensor_defs
    assert {sensor.name: sensor.default_status for sensor in sensors} == EXPECTED


def test_the_crawl_schedule_waits_to_be_switched_on(tmp_path):
    defs = build_definitions(Settings(data_dir=tmp_path))
    [schedule] = defs.get_repository_def().schedule_defs
    assert schedule.name == "daily_crawl"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
