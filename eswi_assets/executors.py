"""Where the steps of a run execute: one Kubernetes job per step in production, local processes
otherwise.

With `dagster_k8s.k8s_job_executor` every step is its own pod from the code location's image, so
a training step can ask for a GPU node (its `dagster-k8s/config` op tags, `gpu_op_tags`) while
the crawl and cleaning steps run on ordinary nodes. Job-level `dagster-k8s/config` tags only
reach the run pod, never step pods: GPU requests belong on the ops.

The GPU tags ask the step pod for one `nvidia.com/gpu` and place it with the node selector and
tolerations from Settings; the Dagster concurrency pool (`Settings.gpu_pool`, set on the assets)
keeps two GPU steps off one card. CPU and memory are set too, requests equal to limits:
dagster-k8s deep-merges the code server's container context (the Helm chart puts the code
server's own `resources` there) under these tags, so without them a training pod would inherit
the code server's small memory limit.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from eswi_assets.settings import Settings

# Finished step jobs (and their pods) are garbage-collected by Kubernetes after a day; the logs
# and events stay in Dagster's event log.
STEP_JOB_TTL_SECONDS = 24 * 3600
PART_OF = {"app.kubernetes.io/part-of": "eswi"}
GPU_RESOURCE = "nvidia.com/gpu"


def k8s_executor_config(settings: Settings) -> dict[str, Any]:
    """The `k8s_job_executor` config for this deployment (the same dict the executor receives)."""
    config: dict[str, Any] = {
        "job_namespace": settings.k8s_namespace,
        "env_secrets": list(settings.k8s_env_secrets),
        # Step pods load the code location again: they must read the same profile.
        "env_vars": [f"ESWI_PROFILE={settings.profile.value}"],
        "max_concurrent": settings.k8s_max_concurrent_steps,
        "labels": dict(PART_OF),
        "step_k8s_config": {
            "job_spec_config": {"ttl_seconds_after_finished": STEP_JOB_TTL_SECONDS},
            "pod_template_spec_metadata": {"labels": dict(PART_OF)},
        },
    }
    if settings.k8s_image:
        config["job_image"] = settings.k8s_image
    return config


def gpu_op_tags(settings: Settings) -> dict[str, Any]:
    resources = {
        GPU_RESOURCE: "1",
        "cpu": settings.training_cpu,
        "memory": settings.training_memory,
    }
    return {
        "dagster-k8s/config": {
            "container_config": {
                "resources": {"requests": dict(resources), "limits": dict(resources)}
            },
            "pod_spec_config": {
                "node_selector": dict(settings.gpu_node_selector),
                "tolerations": [dict(t) for t in settings.gpu_tolerations],
            },
        }
    }


def build_executor(settings: Settings) -> dg.ExecutorDefinition | None:
    """`k8s_job_executor` configured from `settings` in production; None (Dagster's default
    multiprocess executor) locally. dagster-k8s is imported only when it is used."""
    if not settings.uses_k8s_executor:
        return None
    from dagster_k8s import k8s_job_executor

    return k8s_job_executor.configured(k8s_executor_config(settings), name="eswi_k8s")
