"""Scheduling of GPU steps: the `dagster-k8s/config` op tags that put a step on a GPU node.

With the `k8s_job_executor` each step is its own pod; these tags ask that pod for one
`nvidia.com/gpu` and place it with the node selector and tolerations from Settings. The Dagster
concurrency pool (`Settings.gpu_pool`, set on the assets) keeps two GPU steps off one card.

CPU and memory are set here too, requests equal to limits: dagster-k8s deep-merges the code
server's container context (the Helm chart puts the code server's own `resources` there) under
these tags, so without them a training pod would inherit the code server's small memory limit.
"""

from __future__ import annotations

from typing import Any

from eswi_assets.settings import Settings

GPU_RESOURCE = "nvidia.com/gpu"


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
