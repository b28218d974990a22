"""Step pods and the instance as a cluster running the official chart with our values builds them.

The container context comes from the chart's code-location template, the run launcher from its
instance template, the executor from our Settings (read from the values' env), and dagster-k8s
itself merges them with each asset's op tags (`K8sStepHandler._get_container_context`) and
builds the V1Job. Only Kubernetes' own config loading is patched out: no cluster runs here.
"""

from __future__ import annotations

import importlib
import os
import re
from types import SimpleNamespace
from unittest.mock import patch

import dagster as dg
import pytest
from dagster._config import process_config
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.instance.ref import InstanceRef
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.test_utils import instance_for_test
from dagster_k8s import k8s_job_executor
from dagster_k8s.job import construct_dagster_k8s_job

from eswi_assets.definitions import build_definitions
from eswi_assets.executors import k8s_executor_config
from eswi_assets.pools import apply_gpu_pool_limit
from eswi_assets.profiles import DOCCANO_PASSWORD, ES_API_KEY, FEEDBACK_SALT
from eswi_assets.settings import Settings
from eswi_assets_tests.automation import chart

MODELS = ("sft_model", "reward_model", "ppo_model")
NAMESPACE = "eswi"
AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.fixture(scope="module")
def values() -> dict:
    return chart.load_values()


@pytest.fixture
def settings(values, monkeypatch) -> Settings:
    """Settings as the code server reads them: the env the values give its pod."""
    for name in [n for n in os.environ if n.startswith("ESWI_")]:
        monkeypatch.delenv(name)
    for item in chart.user_deployment(values)["env"]:
        monkeypatch.setenv(item["name"], item["value"])
    for name, value in chart.CHART_POD_ENV.items():
        monkeypatch.setenv(name, value)
    return Settings()


def image_of(values: dict) -> str:
    image = chart.user_deployment(values)["image"]
    return f"{image['repository']}:{image['tag']}"


def secret_keys(values_text: str) -> dict[str, set[str]]:
    """The keys each secret must hold, as the values' header lists them (`#   name: KEY, KEY`)."""
    found = re.findall(r"^#\s+([\w-]+):\s+([A-Z_, ]+?)(?:\s+\(.*)?$", values_text, re.MULTILINE)
    return {name: {k.strip() for k in keys.split(",")} for name, keys in found}


def step_job(settings: Settings, values: dict, asset_name: str):
    """The V1Job dagster-k8s would create for `asset_name`'s step in `training_job`."""
    defs = build_definitions(settings)
    step_tags = defs.resolve_job_def("training_job").graph.node_named(asset_name).tags
    image = image_of(values)
    origin = JobPythonOrigin(
        "training_job",
        RepositoryPythonOrigin(
            executable_path="/app/.venv/bin/python",
            code_pointer=ModuleCodePointer("eswi_assets.definitions", "defs", "/app"),
            container_image=image,
            container_context=chart.code_location_container_context(values, NAMESPACE),
        ),
    )
    run = DagsterRun(job_name="training_job", run_id="0123abcd", job_code_origin=origin)
    launcher_config = chart.run_launcher_config(values, NAMESPACE)
    launcher = {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher_config}
    overrides = {"run_launcher": launcher}
    with (
        patch("kubernetes.config.load_incluster_config"),
        instance_for_test(overrides=overrides) as instance,
    ):
        executor_config = process_config(
            k8s_job_executor.config_schema.config_type, k8s_executor_config(settings)
        )
        assert executor_config.success, executor_config.errors
        executor = k8s_job_executor.executor_creation_fn(
            SimpleNamespace(executor_config=executor_config.value, instance=instance)
        )
        handler = executor._step_handler
        step_context = SimpleNamespace(
            dagster_run=run,
            instance=instance,
            step_tags={asset_name: step_tags},
            execute_step_args=SimpleNamespace(step_keys_to_execute=[asset_name]),
            get_step_context=lambda _key: SimpleNamespace(step=SimpleNamespace(op_name=asset_name)),
        )
        context = handler._get_container_context(step_context)
        job_config = context.get_k8s_job_config(handler._executor_image, instance.run_launcher)
        if not job_config.job_image:
            job_config = job_config.with_image(image)
        return construct_dagster_k8s_job(
            job_config=job_config,
            args=["dagster", "api", "execute_step"],
            job_name=f"dagster-step-{asset_name}",
            pod_name=f"dagster-step-{asset_name}",
            component="step_worker",
            user_defined_k8s_config=context.run_k8s_config,
            labels={"dagster/op": asset_name},
        )


@pytest.mark.parametrize("asset_name", MODELS)
def test_training_pod_gets_a_gpu_node_and_its_own_cpu_and_memory(settings, values, asset_name):
    pod = step_job(settings, values, asset_name).spec.template.spec
    [container] = pod.containers
    wanted = {"nvidia.com/gpu": "1", "cpu": settings.training_cpu, "memory": "32Gi"}
    assert container.resources.limits == wanted
    assert container.resources.requests == wanted
    code_server = chart.user_deployment(values)["resources"]
    assert code_server["limits"]["memory"] != container.resources.limits["memory"]
    assert pod.node_selector == settings.gpu_node_selector
    assert [(t.key, t.operator, t.effect) for t in pod.tolerations] == [
        ("nvidia.com/gpu", "Exists", "NoSchedule")
    ]
    assert container.image == image_of(values)


def test_training_pod_receives_every_secret_the_step_reads(settings, values):
    [container] = step_job(settings, values, "sft_model").spec.template.spec.containers
    secrets = {source.secret_ref.name for source in container.env_from if source.secret_ref}
    keys = secret_keys(chart.VALUES.read_text())
    reachable = set().union(*(keys.get(name, set()) for name in secrets))
    needed = {ES_API_KEY, FEEDBACK_SALT, DOCCANO_PASSWORD} | AWS_CREDENTIALS
    assert needed <= reachable, f"missing in the step pod: {needed - reachable}"
    env = {item.name: item.value for item in container.env}
    assert env["ESWI_PROFILE"] == "production"
    assert env["ESWI_AWS_REGION"] == settings.aws_region


def test_crawl_pod_keeps_the_code_servers_small_resources(settings, values):
    defs = build_definitions(settings)
    tags = defs.resolve_job_def("crawl_job").graph.node_named("raw_pages").tags
    assert "nvidia.com/gpu" not in str(tags)


def test_chart_instance_config_loads_with_the_images_packages(values, tmp_path, monkeypatch):
    """Every class the chart's dagster.yaml names (PostgreSQL storage, K8sRunLauncher, S3 compute
    logs, queued coordinator) imports from our environment and accepts its config."""
    import yaml

    for name, value in chart.CHART_POD_ENV.items():
        monkeypatch.setenv(name, value)
    rendered = chart.instance_yaml(values, NAMESPACE)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    ref = InstanceRef.from_dir(str(tmp_path))
    assert ref.storage_data.module_name == "dagster_postgres"
    for data in (
        ref.storage_data,
        ref.run_launcher_data,
        ref.compute_logs_data,
        ref.run_coordinator_data,
        ref.scheduler_data,
    ):
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        checked = process_config(klass.config_type(), data.config_dict)
        assert checked.success, (data.class_name, checked.errors)
    assert "pools" not in rendered.get("concurrency", {}), "a default limit caps every pool"
    assert rendered["compute_logs"]["config"]["region"]


def test_gpu_pool_limit_comes_from_settings_and_is_idempotent(tmp_path):
    settings = Settings(data_dir=tmp_path, gpu_pool_limit=2)
    with dg.instance_for_test() as instance:
        apply_gpu_pool_limit(instance, settings)
        apply_gpu_pool_limit(instance, settings)
        info = instance.event_log_storage.get_concurrency_info(settings.gpu_pool)
        assert info.slot_count == 2
        assert instance.event_log_storage.get_concurrency_info("other").slot_count in (0, None)
