"""One question both retraining sensors ask before they request training: is one already on
its way? A queued or running training run holds every further request, so switching a sensor
back on after a long pause, or a burst of new data, never piles training runs onto the GPUs."""

from __future__ import annotations

import dagster as dg

from eswi_assets.jobs import GPU_JOBS
from eswi_assets.keys import MODEL_KEYS

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
_MODEL_KEYS = {dg.AssetKey(key) for key in MODEL_KEYS}


def trains_models(run: dg.DagsterRun) -> bool:
    """Whether `run` materializes a model: a subset that selects one, or a whole GPU job."""
    if run.asset_selection is not None:
        return bool(run.asset_selection & _MODEL_KEYS)
    return run.job_name in GPU_JOBS


def training_run_in_flight(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """A queued or running run that trains a model (GPU jobs, and UI materializations of the
    models, which run as Dagster's implicit asset job), or None. In-flight runs are few (the
    run queue bounds them), so all of them are read and none is missed behind a crawl backfill."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))
    return next((run for run in runs if trains_models(run)), None)


def describe(run: dg.DagsterRun) -> str:
    return f"{run.job_name} run {run.run_id[:8]} is {run.status.value.lower()}"
