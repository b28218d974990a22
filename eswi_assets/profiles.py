"""The one place that maps a profile (local embedded stores or production services) to resources.

Assets name resource keys only; which store stands behind a key is decided here, from Settings.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_duckdb_pandas import DuckDBPandasIOManager

from eswi_assets.resources.browser import ChromiumResource
from eswi_assets.resources.crawl_sources import CrawlSourcesResource
from eswi_assets.resources.doccano import DoccanoResource, SeedOnlyLabels
from eswi_assets.settings import Settings


def build_resources(settings: Settings) -> dict[str, Any]:
    shared = {
        "chromium": ChromiumResource(
            chromium_path=str(settings.chromium_path),
            chromedriver_path=str(settings.chromedriver_path),
            pool_size=settings.browser_pool_size,
            pages_per_driver=settings.browser_pages_per_driver,
        ),
        "crawl_sources": CrawlSourcesResource(path=str(settings.crawl_sources)),
    }
    profile = _production(settings) if settings.is_production else _local(settings)
    return shared | profile


def _local(settings: Settings) -> dict[str, Any]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "io_manager": DuckDBPandasIOManager(database=str(settings.duckdb_path), schema="eswi"),
        "labeling": SeedOnlyLabels(),
    }


def _production(settings: Settings) -> dict[str, Any]:
    return {
        "io_manager": DuckDBPandasIOManager(database=str(settings.duckdb_path), schema="eswi"),
        "labeling": DoccanoResource(
            url=settings.doccano_url,
            username=settings.doccano_username,
            password=dg.EnvVar("ESWI_DOCCANO_PASSWORD"),
            project_name=settings.doccano_project,
        ),
    }
