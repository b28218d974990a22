"""What the official Dagster Helm chart (1.13) renders from `deploy/helm/values.yaml`, for the parts
a step pod and the instance are built from. Each function mirrors one chart template:

- `code_location_container_context`: `dagsterUserDeployments.k8sContainerContext`
  (charts/dagster-user-deployments/templates/helpers/_helpers.tpl), the
  DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT of the code server when includeConfigInLaunchedRuns is on;
- `instance_yaml`: templates/configmap-instance.yaml (its run_monitoring block included) with
  helpers/instance/_postgresql.tpl, _run-launcher.tpl, _run-coordinator.tpl,
  _compute-log-manager.tpl and _concurrency.tpl.

Only the value keys this project sets are mirrored; a key the values use that is not mirrored
fails loudly rather than being dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "helm" / "values.yaml"
RELEASE = "eswi"
FULLNAME = f"{RELEASE}-dagster"
# What the chart's pods get from their Deployment spec (templates/deployment-*.yaml).
CHART_POD_ENV = {
    "DAGSTER_HOME": "/opt/dagster/dagster_home",
    "DAGSTER_K8S_INSTANCE_CONFIG_MAP": f"{FULLNAME}-instance",
    "DAGSTER_K8S_PG_PASSWORD_SECRET": "dagster-postgresql-secret",
    "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP": f"{FULLNAME}-pipeline-env",
    "DAGSTER_PG_PASSWORD": "from-the-secret",
}
RUN_K8S_CONFIG_KEYS = {
    "containerConfig": "container_config",
    "podSpecConfig": "pod_spec_config",
    "podTemplateSpecMetadata": "pod_template_spec_metadata",
    "jobSpecConfig": "job_spec_config",
    "jobMetadata": "job_metadata",
}


def load_values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def user_deployment(values: dict[str, Any]) -> dict[str, Any]:
    [deployment] = values["dagster-user-deployments"]["deployments"]
    return deployment


def code_location_container_context(values: dict[str, Any], namespace: str) -> dict[str, Any]:
    deployment = user_deployment(values)
    k8s: dict[str, Any] = {
        "image_pull_policy": deployment["image"]["pullPolicy"],
        "env_config_maps": [f"{FULLNAME}-{deployment['name']}-user-env"]
        + [c["name"] for c in deployment.get("envConfigMaps", [])],
        "namespace": namespace,
        "service_account_name": f"{FULLNAME}-user-deployments",
    }
    if deployment.get("envSecrets"):
        k8s["env_secrets"] = [s["name"] for s in deployment["envSecrets"]]
    for key in ("volumeMounts", "volumes", "labels", "resources", "schedulerName"):
        if deployment.get(key):
            k8s[_snake(key)] = deployment[key]
    if isinstance(deployment.get("env"), list):
        k8s["env"] = deployment["env"]
    return {"k8s": k8s}


def run_launcher_config(values: dict[str, Any], namespace: str) -> dict[str, Any]:
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    config: dict[str, Any] = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or namespace,
        "image_pull_policy": launcher.get("imagePullPolicy", "Always"),
        "service_account_name": FULLNAME,
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}]
        + [c["name"] for c in launcher.get("envConfigMaps", [])],
    }
    if launcher.get("envSecrets"):
        config["env_secrets"] = [s["name"] for s in launcher["envSecrets"]]
    for key in ("envVars", "volumeMounts", "volumes", "labels", "resources"):
        if launcher.get(key):
            config[_snake(key)] = launcher[key]
    if launcher.get("runK8sConfig"):
        config["run_k8s_config"] = {
            RUN_K8S_CONFIG_KEYS[key]: value for key, value in launcher["runK8sConfig"].items()
        }
    known = {
        "loadInclusterConfig", "jobNamespace", "imagePullPolicy", "envConfigMaps", "envSecrets",
        "envVars", "volumeMounts", "volumes", "labels", "resources", "runK8sConfig",
    }  # fmt: skip
    unmirrored = set(launcher) - known
    assert not unmirrored, f"values set run launcher keys this mirror lacks: {unmirrored}"
    return config


def instance_yaml(values: dict[str, Any], namespace: str) -> dict[str, Any]:
    postgres = values["postgresql"]
    instance: dict[str, Any] = {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": postgres["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": postgres["postgresqlHost"],
                    "db_name": postgres["postgresqlDatabase"],
                    "port": postgres["service"]["port"],
                    "params": postgres.get("postgresqlParams", {}),
                }
            }
        },
        "run_launcher": {
            "module": "dagster_k8s",
            "class": "K8sRunLauncher",
            "config": run_launcher_config(values, namespace),
        },
        "scheduler": {"module": "dagster.core.scheduler", "class": "DagsterDaemonScheduler"},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    if coordinator["enabled"]:
        assert coordinator["type"] == "QueuedRunCoordinator"
        instance["run_coordinator"] = {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {},
        }
    daemon = values["dagsterDaemon"]
    monitoring = daemon.get("runMonitoring") or {}
    if daemon["enabled"] and monitoring.get("enabled"):
        # _instance: start_timeout_seconds, poll_interval_seconds and free_slots_... are always
        # rendered; cancel_timeout_seconds and max_resume_run_attempts only when set.
        rendered_monitoring = {
            "enabled": True,
            "start_timeout_seconds": monitoring.get("startTimeoutSeconds"),
            "poll_interval_seconds": monitoring.get("pollIntervalSeconds"),
            "free_slots_after_run_end_seconds": monitoring.get("freeSlotsAfterRunEndSeconds"),
        }
        for key in ("cancelTimeoutSeconds", "maxResumeRunAttempts"):
            if monitoring.get(key) is not None:
                rendered_monitoring[_snake(key)] = monitoring[key]
        known = {
            "enabled", "startTimeoutSeconds", "pollIntervalSeconds", "freeSlotsAfterRunEndSeconds",
            "cancelTimeoutSeconds", "maxResumeRunAttempts",
        }  # fmt: skip
        unmirrored = set(monitoring) - known
        assert not unmirrored, f"values set run monitoring keys this mirror lacks: {unmirrored}"
        instance["run_monitoring"] = rendered_monitoring
    logs = values["computeLogManager"]
    assert logs["type"] == "S3ComputeLogManager"
    instance["compute_logs"] = {
        "module": "dagster_aws.s3.compute_log_manager",
        "class": "S3ComputeLogManager",
        "config": {_snake(k): v for k, v in logs["config"]["s3ComputeLogManager"].items()},
    }
    concurrency = values.get("concurrency", {})
    if concurrency.get("enabled"):
        rendered: dict[str, Any] = {}
        pools = concurrency.get("pools") or {}
        if pools.get("defaultLimit") is not None:
            rendered["pools"] = {"default_limit": pools["defaultLimit"]}
        runs = concurrency.get("runs") or {}
        if runs.get("maxConcurrentRuns") is not None:
            rendered["runs"] = {"max_concurrent_runs": runs["maxConcurrentRuns"]}
        if rendered:
            instance["concurrency"] = rendered
    return instance


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
