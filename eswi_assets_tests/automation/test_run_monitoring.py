"""A cancelled training run must not keep its GPU pool slot: the instance configs we ship turn on
the daemon's run monitoring, whose slot sweep frees the slots of runs that ended."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import yaml
from dagster._core.test_utils import freeze_time
from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration

from eswi_assets.jobs import TRAINING_JOB
from eswi_assets.pools import apply_gpu_pool_limit
from eswi_assets.settings import Settings
from eswi_assets_tests.automation import chart
from eswi_assets_tests.automation.standins import queue_run, standin_definitions

LOCAL_YAML = Path(__file__).resolve().parents[2] / "deploy" / "local" / "dagster.yaml"


def local_config() -> dict:
    return yaml.safe_load(LOCAL_YAML.read_text())


def helm_config() -> dict:
    rendered = chart.instance_yaml(chart.load_values(), "eswi")
    return {"run_monitoring": rendered["run_monitoring"]}


def sweep(instance: dg.DagsterInstance, seconds_later: float) -> None:
    """One pass of the monitoring daemon's slot sweep, `seconds_later` from now."""
    with freeze_time(time.time() + seconds_later):
        context = SimpleNamespace(instance=instance)
        list(execute_concurrency_slots_iteration(context, logging.getLogger(__name__)))


@pytest.mark.parametrize("config", [local_config, helm_config], ids=["local", "helm"])
def test_a_cancelled_gpu_run_frees_its_slot_and_the_next_training_step_runs(tmp_path, config):
    overrides = config()
    wait = overrides["run_monitoring"]["free_slots_after_run_end_seconds"]
    assert overrides["run_monitoring"]["enabled"] and wait > 0
    settings = Settings(data_dir=tmp_path, gpu_pool_limit=1)

    @dg.asset(pool=settings.gpu_pool)
    def training_step() -> None:
        pass

    with dg.instance_for_test(overrides=overrides) as instance:
        assert instance.run_monitoring_enabled
        apply_gpu_pool_limit(instance, settings)
        storage = instance.event_log_storage
        cancelled = queue_run(
            instance,
            standin_definitions(settings),
            TRAINING_JOB,
            status=dg.DagsterRunStatus.STARTED,
        )
        claim = storage.claim_concurrency_slot(settings.gpu_pool, cancelled.run_id, "sft_model")
        assert claim.is_claimed
        instance.report_run_canceled(cancelled)  # terminated mid-step: the slot stays claimed
        assert storage.get_concurrency_info(settings.gpu_pool).active_slot_count == 1

        sweep(instance, seconds_later=wait / 2)  # too early: a run may still be finishing
        assert storage.get_concurrency_info(settings.gpu_pool).active_slot_count == 1

        sweep(instance, seconds_later=wait + 1)
        assert storage.get_concurrency_info(settings.gpu_pool).active_slot_count == 0
        assert dg.materialize([training_step], instance=instance).success


def test_without_run_monitoring_the_slot_of_a_cancelled_run_stays_claimed(tmp_path):
    """The failure the shipped configs prevent (a stock instance, as before)."""
    settings = Settings(data_dir=tmp_path, gpu_pool_limit=1)
    with dg.instance_for_test() as instance:
        apply_gpu_pool_limit(instance, settings)
        run = queue_run(
            instance,
            standin_definitions(settings),
            TRAINING_JOB,
            status=dg.DagsterRunStatus.STARTED,
        )
        instance.event_log_storage.claim_concurrency_slot(settings.gpu_pool, run.run_id, "sft")
        instance.report_run_canceled(run)
        sweep(instance, seconds_later=3600)
        assert instance.event_log_storage.get_concurrency_info(settings.gpu_pool).active_slot_count
