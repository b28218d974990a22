"""Jobs select the right assets and production runs steps as Kubernetes jobs. The step pods
themselves are built through the chart and dagster-k8s in test_step_pods_from_chart.py."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._config import process_config
from dagster_k8s import k8s_job_executor
from dagster_k8s.job import get_user_defined_k8s_config

from eswi_assets.definitions import build_definitions
from eswi_assets.executors import k8s_executor_config
from eswi_assets.settings import Profile, Settings

MODELS = {"base_model", "sft_model", "reward_model", "ppo_model"}


def asset_names(defs: dg.Definitions, job_name: str) -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {key.to_user_string() for key in job.asset_layer.executable_asset_keys}


def test_jobs_select_their_assets(tmp_path):
    defs = build_definitions(Settings(data_dir=tmp_path))
    graph = defs.resolve_asset_graph()
    everything = {k.to_user_string() for k in graph.materializable_asset_keys}
    assert asset_names(defs, "crawl_job") == {"raw_pages", "cleaned_corpus"}
    assert asset_names(defs, "training_job") == MODELS
    assert asset_names(defs, "full_pipeline") == everything
    # reward_model and everything downstream: rating_table too, once it is defined
    feedback = asset_names(defs, "feedback_job")
    assert {"reward_model", "ppo_model"} <= feedback
    assert feedback == {"reward_model", "ppo_model"} | ({"rating_table"} & everything)


def test_local_profile_runs_steps_in_local_processes(tmp_path):
    defs = build_definitions(Settings(data_dir=tmp_path))
    for job_name in ("crawl_job", "training_job", "feedback_job", "full_pipeline"):
        assert defs.resolve_job_def(job_name).executor_def.name == "multi_or_in_process_executor"


@pytest.mark.parametrize(
    ("profile", "override", "expected"),
    [
        (Profile.PRODUCTION, None, "eswi_k8s"),
        (Profile.PRODUCTION, False, "multi_or_in_process_executor"),
        (Profile.LOCAL, True, "eswi_k8s"),
    ],
)
def test_k8s_executor_follows_the_profile_unless_overridden(tmp_path, profile, override, expected):
    settings = Settings(profile=profile, k8s_executor=override, data_dir=tmp_path)
    defs = build_definitions(settings)
    for job_name in ("training_job", "feedback_job", "full_pipeline"):
        assert defs.resolve_job_def(job_name).executor_def.name == expected


def test_production_executor_config_comes_from_settings(tmp_path):
    settings = Settings(
        profile=Profile.PRODUCTION,
        data_dir=tmp_path,
        k8s_image="registry.example/eswi:1.2.3",
        k8s_namespace="eswi-prod",
        k8s_env_secrets=["eswi-secrets", "eswi-aws"],
        k8s_max_concurrent_steps=3,
    )
    config = k8s_executor_config(settings)
    # `.configured()` checks nothing until a run starts: check against the executor's schema.
    checked = process_config(k8s_job_executor.config_schema.config_type, config)
    assert checked.success, checked.errors
    assert config["job_image"] == "registry.example/eswi:1.2.3"
    assert config["job_namespace"] == "eswi-prod"
    assert config["env_secrets"] == ["eswi-secrets", "eswi-aws"]
    assert config["max_concurrent"] == 3
    assert "ESWI_PROFILE=production" in config["env_vars"]
    assert "job_image" not in k8s_executor_config(Settings(profile=Profile.PRODUCTION))


def test_crawl_step_pod_asks_for_no_gpu(tmp_path):
    settings = Settings(profile=Profile.PRODUCTION, data_dir=tmp_path)
    defs = build_definitions(settings)
    step_tags = defs.resolve_job_def("crawl_job").graph.node_named("raw_pages").tags
    user_config = get_user_defined_k8s_config(step_tags)
    assert "nvidia.com/gpu" not in str(user_config.container_config)
