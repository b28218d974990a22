"""Sets the Dagster concurrency limit of the GPU pool from Settings (`ESWI_GPU_POOL`,
`ESWI_GPU_POOL_LIMIT`) on the current instance (DAGSTER_HOME).

A pool limit is instance state, not instance config: the Helm chart can only render a default
for every pool, which would also cap pools that should be unlimited. Run once after installing
or resizing the GPU node pool (`python -m eswi_assets.pools`); running it again changes nothing.
"""

from __future__ import annotations

import dagster as dg

from eswi_assets.settings import Settings


def apply_gpu_pool_limit(instance: dg.DagsterInstance, settings: Settings) -> int:
    """Sets the GPU pool's slot count to `settings.gpu_pool_limit`; returns the count now set."""
    storage = instance.event_log_storage
    current = storage.get_concurrency_info(settings.gpu_pool).slot_count
    if current != settings.gpu_pool_limit:
        storage.set_concurrency_slots(settings.gpu_pool, settings.gpu_pool_limit)
    return settings.gpu_pool_limit


def main() -> None:
    settings = Settings()
    with dg.DagsterInstance.get() as instance:
        limit = apply_gpu_pool_limit(instance, settings)
    print(f"pool {settings.gpu_pool!r}: at most {limit} training step(s) at once")


if __name__ == "__main__":
    main()
