"""The Helm values for the official Dagster chart and the Dockerfile say what the deployment
needs: the project image as the code location, production profile, K8sRunLauncher, PostgreSQL,
secrets by name only, and a GPU pool the settings in the values actually parse into."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from eswi_assets.executors import gpu_op_tags
from eswi_assets.settings import Profile, Settings

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "helm" / "values.yaml"
DOCKERFILE = REPO / "Dockerfile"
SECRET_VARIABLES = {
    "ESWI_DOCCANO_PASSWORD",
    "ESWI_ELASTICSEARCH_API_KEY",
    "ESWI_FEEDBACK_SALT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def deployment(values) -> dict:
    user_code = values["dagster-user-deployments"]
    assert user_code["enabled"] is True
    [only] = user_code["deployments"]
    return only


def env_of(deployment: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in deployment["env"]}


def test_code_location_is_the_project_image_serving_the_definitions_module(deployment):
    assert deployment["image"]["repository"].endswith("eswi-pipeline")
    assert deployment["image"]["tag"]
    args = deployment.get("codeServerArgs") or deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert module == "eswi_assets.definitions"
    assert importlib.util.find_spec(module) is not None
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True


def test_runs_launch_as_kubernetes_jobs_on_postgresql(values):
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    postgres = values["postgresql"]
    assert postgres["postgresqlHost"] and postgres["postgresqlDatabase"]
    assert not postgres["postgresqlPassword"]  # from the secret, never in the values
    assert values["global"]["postgresqlSecretName"] == "dagster-postgresql-secret"


def test_secrets_are_referenced_by_name_and_never_given_as_values(values, deployment):
    names = {s["name"] for s in deployment["envSecrets"]}
    assert names == {"eswi-secrets", "eswi-aws"}
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert {s["name"] for s in launcher["envSecrets"]} == names
    assert not SECRET_VARIABLES & set(env_of(deployment))
    text = VALUES.read_text()
    for variable in SECRET_VARIABLES:  # the README of the values names each key to create
        assert variable in text


def test_env_in_the_values_loads_production_settings_with_the_gpu_pool(deployment, monkeypatch):
    for name, value in env_of(deployment).items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.profile is Profile.PRODUCTION
    assert settings.uses_k8s_executor
    assert set(settings.k8s_env_secrets) == {s["name"] for s in deployment["envSecrets"]}
    pod = gpu_op_tags(settings)["dagster-k8s/config"]["pod_spec_config"]
    assert pod["node_selector"] == {"cloud.google.com/gke-nodepool": "gpu-pool"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_dockerfile_builds_one_non_root_image_with_chromium_and_its_driver():
    text = DOCKERFILE.read_text()
    assert re.search(r"apt-get install[^\n]*\\?\n?.*chromium chromium-driver", text)
    [user] = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert user.split(":")[0] not in {"root", "0"}
    cmd = re.search(r"^CMD (\[.*\])", text, flags=re.MULTILINE).group(1)
    assert "code-server" in cmd and "eswi_assets.definitions" in cmd
