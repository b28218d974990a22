"""The code location loads in every profile, also when production services are unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from eswi_assets.definitions import build_definitions
from eswi_assets.profiles import build_resources
from eswi_assets.resources.doccano import DoccanoResource, SeedOnlyLabels
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets.resources.feedback_store import (
    ElasticsearchFeedbackStoreResource,
    SqliteFeedbackStoreResource,
)
from eswi_assets.resources.model_store import LocalModelStoreResource, S3ModelStoreResource
from eswi_assets.settings import Profile, Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = {
    "ESWI_ELASTICSEARCH_URL": "http://127.0.0.1:9",
    "ESWI_DOCCANO_URL": "http://127.0.0.1:9",
    "ESWI_S3_ENDPOINT_URL": "http://127.0.0.1:9",
}


@pytest.mark.parametrize("profile", list(Profile))
def test_definitions_load_in_every_profile(profile, tmp_path):
    settings = Settings(profile=profile, data_dir=tmp_path)
    defs = build_definitions(settings)
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_pages", "cleaned_corpus"} <= keys


@pytest.mark.parametrize("profile", list(Profile))
def test_dagster_cli_validates_the_code_location(profile, tmp_path):
    env = os.environ | UNREACHABLE | {"ESWI_PROFILE": profile.value, "ESWI_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        env=env | {"DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_profile_is_rejected_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("ESWI_PROFILE", "staging")
    with pytest.raises(ValueError, match="profile"):
        Settings()


def test_data_assets_are_partitioned_by_taipei_crawl_date():
    defs = build_definitions(Settings())
    graph = defs.resolve_asset_graph()
    for key in ("raw_pages", "cleaned_corpus"):
        partitions = graph.get(dg.AssetKey(key)).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition)
        assert partitions.timezone == "Asia/Taipei"


def test_production_stores_are_elasticsearch_s3_and_doccano_with_secrets_from_env(tmp_path):
    resources = build_resources(Settings(profile=Profile.PRODUCTION, data_dir=tmp_path))
    assert isinstance(resources["io_manager"], ElasticsearchIOManager)
    assert isinstance(resources["model_store"], S3ModelStoreResource)
    assert isinstance(resources["feedback_store"], ElasticsearchFeedbackStoreResource)
    assert isinstance(resources["labeling"], DoccanoResource)
    assert resources["feedback_store"].salt == dg.EnvVar("ESWI_FEEDBACK_SALT")
    assert resources["labeling"].password == dg.EnvVar("ESWI_DOCCANO_PASSWORD")


def test_production_can_label_from_seeds_when_no_doccano_is_deployed(tmp_path):
    settings = Settings(profile=Profile.PRODUCTION, data_dir=tmp_path, labeling="seed")
    assert isinstance(build_resources(settings)["labeling"], SeedOnlyLabels)


def test_local_stores_are_embedded_under_the_data_dir(tmp_path):
    resources = build_resources(Settings(data_dir=tmp_path))
    assert isinstance(resources["model_store"], LocalModelStoreResource)
    assert resources["model_store"].base_dir == str(tmp_path / "models")
    assert isinstance(resources["feedback_store"], SqliteFeedbackStoreResource)
    assert resources["feedback_store"].path == str(tmp_path / "feedback.sqlite")
