"""The one place that maps a profile (local embedded stores or production services) to resources.

Assets name resource keys only; which store stands behind a key is decided here, from Settings.
The stores themselves are plain classes in `eswi_assets.stores` (whose `build` makes the same
choice for the serving app); the resources here are their Dagster config. Secrets (API keys,
passwords, the feedback salt) are `dg.EnvVar`s, so they never enter run config, the UI or logs.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_duckdb_pandas import DuckDBPandasIOManager

from eswi_assets.resources.browser import ChromiumResource
from eswi_assets.resources.crawl_sources import CrawlSourcesResource
from eswi_assets.resources.doccano import DoccanoResource, SeedOnlyLabels
from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets.resources.feedback_store import (
    ElasticsearchFeedbackStoreResource,
    SqliteFeedbackStoreResource,
)
from eswi_assets.resources.model_store import LocalModelStoreResource, S3ModelStoreResource
from eswi_assets.settings import Settings
from eswi_assets.stores import ES_API_KEY, FEEDBACK_SALT

DOCCANO_PASSWORD = "ESWI_DOCCANO_PASSWORD"


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
    return shared | profile | {"labeling": _labeling(settings)}


def _labeling(settings: Settings) -> dg.ConfigurableResource:
    if not settings.uses_doccano:
        return SeedOnlyLabels()
    return DoccanoResource(
        url=settings.doccano_url,
        username=settings.doccano_username,
        password=dg.EnvVar(DOCCANO_PASSWORD),
        project_name=settings.doccano_project,
    )


def _optional_secret(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def _local(settings: Settings) -> dict[str, Any]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "io_manager": DuckDBPandasIOManager(database=str(settings.duckdb_path), schema="eswi"),
        "model_store": LocalModelStoreResource(base_dir=str(settings.models_dir)),
        "feedback_store": SqliteFeedbackStoreResource(
            path=str(settings.feedback_db_path), salt=_optional_secret(FEEDBACK_SALT)
        ),
    }


def _production(settings: Settings) -> dict[str, Any]:
    elasticsearch = ElasticsearchResource(
        url=settings.elasticsearch_url,
        api_key=_optional_secret(ES_API_KEY),
        index_prefix=settings.es_index_prefix,
    )
    return {
        "io_manager": ElasticsearchIOManager(elasticsearch=elasticsearch),
        "model_store": S3ModelStoreResource(
            s3=S3Resource(endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region),
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
        ),
        "feedback_store": ElasticsearchFeedbackStoreResource(
            elasticsearch=elasticsearch, salt=dg.EnvVar(FEEDBACK_SALT)
        ),
    }
