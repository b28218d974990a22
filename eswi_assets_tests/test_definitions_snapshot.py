"""The shape of the code location in each profile, against a checked-in snapshot (as
dagster-open-platform's test_defs does): an asset, dependency, check, job, sensor, schedule or
resource key that appears, disappears or moves shows up in review as a diff of
`snapshots/definitions_<profile>.json`, never silently.

After an intended change, regenerate both snapshots and commit them with the change:

    ESWI_UPDATE_SNAPSHOTS=1 python -m pytest eswi_assets_tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from eswi_assets.definitions import build_definitions
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Profile, Settings

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = "ESWI_UPDATE_SNAPSHOTS"
REGENERATE = f"{UPDATE}=1 python -m pytest eswi_assets_tests/{Path(__file__).name}"


def snapshot(settings: Settings) -> dict[str, Any]:
    """What a reviewer should see change: keys, groups, deps, checks, jobs and their targets."""
    defs = build_definitions(settings)
    repository = defs.get_repository_def()
    checks: dict[str, list[str]] = {}
    for check in defs.resolve_asset_graph().asset_check_keys:
        checks.setdefault(check.asset_key.to_user_string(), []).append(check.name)
    assets = {
        spec.key.to_user_string(): {
            "group": spec.group_name,
            "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
            "checks": sorted(checks.get(spec.key.to_user_string(), [])),
            "kinds": sorted(spec.kinds),
            "owners": sorted(spec.owners),
            "partitions": type(spec.partitions_def).__name__ if spec.partitions_def else None,
        }
        for spec in defs.resolve_all_asset_specs()
    }
    jobs = {
        job.name: {
            "assets": sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys),
            "executor": job.executor_def.name,
        }
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__")  # Dagster's implicit jobs
    }
    sensors = {
        sensor.name: {
            "jobs": sorted(t.job_name for t in sensor.targets if not t.job_name.startswith("__")),
            "default_status": sensor.default_status.value,
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
        }
        for sensor in repository.sensor_defs
    }
    schedules = {
        schedule.name: {
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "job": schedule.job_name,
        }
        for schedule in repository.schedule_defs
    }
    resources = {key: type(value).__name__ for key, value in build_resources(settings).items()}
    return {
        "assets": dict(sorted(assets.items())),
        "jobs": dict(sorted(jobs.items())),
        "sensors": dict(sorted(sensors.items())),
        "schedules": dict(sorted(schedules.items())),
        "resources": dict(sorted(resources.items())),
    }


@pytest.mark.parametrize("profile", list(Profile), ids=lambda p: p.value)
def test_definitions_match_the_checked_in_snapshot(profile: Profile, tmp_path: Path):
    found = snapshot(Settings(profile=profile, data_dir=tmp_path))
    path = SNAPSHOTS / f"definitions_{profile.value}.json"
    if os.environ.get(UPDATE):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
    assert path.is_file(), f"no snapshot at {path}: create it with `{REGENERATE}`"
    expected = json.loads(path.read_text())
    assert found == expected, (
        f"The {profile.value} definitions changed against {path.name}. If the change is "
        f"intended, regenerate the snapshots with `{REGENERATE}` and commit them."
    )


def test_profiles_differ_only_in_resources_and_the_executor(tmp_path: Path):
    """The graph is one graph: a profile swaps stores (and the storage kind the UI shows) and the
    executor, nothing else."""
    local = snapshot(Settings(data_dir=tmp_path))
    production = snapshot(Settings(profile=Profile.PRODUCTION, data_dir=tmp_path))
    for part in ("sensors", "schedules"):
        assert local[part] == production[part]
    assert local["assets"].keys() == production["assets"].keys()
    for key, asset in local["assets"].items():
        stores = {"duckdb": "elasticsearch", "sqlite": "elasticsearch"}
        kinds = [stores.get(kind, kind) for kind in asset["kinds"]]
        assert {**asset, "kinds": sorted(kinds)} == production["assets"][key], key
    assert "duckdb" in local["assets"]["raw_pages"]["kinds"]
    assert local["assets"]["user_feedback"]["kinds"] == ["sqlite"]
    assert {name: job["assets"] for name, job in local["jobs"].items()} == {
        name: job["assets"] for name, job in production["jobs"].items()
    }
    assert local["resources"].keys() == production["resources"].keys()
    assert local["resources"]["model_store"] == "LocalModelStoreResource"
    assert production["resources"]["model_store"] == "S3ModelStoreResource"
    assert production["jobs"]["training_job"]["executor"] == "eswi_k8s"
