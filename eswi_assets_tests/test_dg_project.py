"""The project works with Dagster's `dg` CLI in both profiles: `[tool.dg]` in pyproject.toml names
the definitions module and the code location, and `dg check defs` / `dg list defs` load them."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from eswi_assets.settings import Profile
from eswi_assets_tests.test_definitions import UNREACHABLE

REPO_ROOT = Path(__file__).resolve().parents[1]
DG = REPO_ROOT / ".venv" / "bin" / "dg"
LOCATION = "eswi_assets"


def dg(*args: str, profile: Profile, home: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | UNREACHABLE | {"ESWI_PROFILE": profile.value, "ESWI_DATA_DIR": str(home)}
    return subprocess.run(
        [str(DG), *args],
        env=env | {"DAGSTER_HOME": str(home), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )


@pytest.mark.parametrize("profile", list(Profile), ids=lambda p: p.value)
def test_dg_checks_and_lists_the_definitions(profile: Profile, tmp_path: Path):
    checked = dg("check", "defs", profile=profile, home=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr

    listed = dg("list", "defs", "--json", profile=profile, home=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found = json.loads(listed.stdout)
    assets = {asset["asset_key"] for asset in found["assets"]}
    assert {"raw_pages", "cleaned_corpus", "sft_model", "ppo_model", "rating_table"} <= assets
    assert {"crawl_job", "training_job", "feedback_job", "full_pipeline"} <= {
        job["name"] for job in found["jobs"]
    }
    assert "daily_crawl" in {schedule["name"] for schedule in found["schedules"]}


def test_the_code_location_has_its_configured_name_everywhere():
    """`dg` (pyproject), `dagster dev`/the webserver (workspace.yaml) and the code server (Helm
    values) all show the location as `eswi_assets`, serving `eswi_assets.definitions`."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["dg"]
    assert project["directory_type"] == "project"
    assert project["project"]["code_location_name"] == LOCATION
    assert project["project"]["code_location_target_module"] == "eswi_assets.definitions"
    (entry,) = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    assert entry["python_module"]["location_name"] == LOCATION
    assert entry["python_module"]["module_name"] == "eswi_assets.definitions"
