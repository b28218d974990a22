"""Jobs select the right assets; production runs steps as Kubernetes jobs, and the step pod a
training asset gets asks for a GPU on the GPU pool (built by dagster-k8s, no cluster needed)."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._config import process_config
from dagster_k8s import k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from eswi_assets.definitions import build_definitions
from eswi_assets.executors import k8s_executor_config
from eswi_assets.settings import Profile, Settings

MODELS = {"sft_model", "reward_model", "ppo_model"}


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


def step_job_for(settings: Settings, asset_name: str):
    """The V1Job the k8s executor would create for `asset_name`'s step: executor config merged
    with the step's `dagster-k8s/config` tags, exactly as K8sStepHandler merges them."""
    defs = build_definitions(settings)
    job = defs.resolve_job_def("training_job")
    step_tags = job.graph.node_named(asset_name).tags
    config = k8s_executor_config(settings)
    executor_context = K8sContainerContext(
        env_secrets=config["env_secrets"],
        env_vars=config["env_vars"],
        labels=config["labels"],
        namespace=config["job_namespace"],
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(config["step_k8s_config"]),
    )
    context = executor_context.merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(step_tags))
    )
    job_config = DagsterK8sJobConfig(
        job_image=config.get("job_image", "eswi:latest"),
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map="dagster-instance",
        postgres_password_secret="dagster-postgresql-secret",
    )
    return construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_step"],
        job_name=f"dagster-step-{asset_name.replace('_', '-')}",
        user_defined_k8s_config=context.run_k8s_config,
        component="step_worker",
        labels={"dagster/op": asset_name},
    )


@pytest.mark.parametrize("asset_name", sorted(MODELS))
def test_training_step_pod_asks_for_a_gpu_on_the_gpu_pool(tmp_path, asset_name):
    settings = Settings(
        profile=Profile.PRODUCTION,
        data_dir=tmp_path,
        k8s_image="registry.example/eswi:1.2.3",
        gpu_node_selector={"cloud.google.com/gke-nodepool": "gpu-a100"},
        gpu_tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}],
    )
    v1job = step_job_for(settings, asset_name)
    pod = v1job.spec.template.spec
    [container] = pod.containers
    assert container.resources.limits == {"nvidia.com/gpu": "1"}
    assert container.resources.requests == {"nvidia.com/gpu": "1"}
    assert pod.node_selector == {"cloud.google.com/gke-nodepool": "gpu-a100"}
    assert [(t.key, t.operator, t.value) for t in pod.tolerations] == [
        ("dedicated", "Equal", "gpu")
    ]
    assert container.image == "registry.example/eswi:1.2.3"
    assert [source.secret_ref.name for source in container.env_from] == ["eswi-secrets"]
    assert {"name": "ESWI_PROFILE", "value": "production"} in [
        {"name": env.name, "value": env.value} for env in container.env
    ]
    assert v1job.spec.ttl_seconds_after_finished == 24 * 3600


def test_crawl_step_pod_asks_for_no_gpu(tmp_path):
    settings = Settings(profile=Profile.PRODUCTION, data_dir=tmp_path)
    defs = build_definitions(settings)
    step_tags = defs.resolve_job_def("crawl_job").graph.node_named("raw_pages").tags
    user_config = get_user_defined_k8s_config(step_tags)
    assert "nvidia.com/gpu" not in str(user_config.container_config)
