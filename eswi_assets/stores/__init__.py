"""Plain stores (no Dagster): model versions on local disk or S3, users' ratings in SQLite or
Elasticsearch. `build(settings)` is the one place that picks them for a profile outside Dagster
(the serving app); `eswi_assets.profiles` configures the Dagster resources over the same classes,
and a test holds the two to the same choice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import boto3

from eswi_assets.settings import Settings
from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.models import LocalModelStore, ModelStore, S3ModelStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore

# Secrets are read from these environment variables (by `dg.EnvVar` inside Dagster).
ES_API_KEY = "ESWI_ELASTICSEARCH_API_KEY"
FEEDBACK_SALT = "ESWI_FEEDBACK_SALT"


@dataclass(frozen=True)
class Stores:
    models: ModelStore
    feedback: FeedbackStore


def build(settings: Settings, environ: Mapping[str, str] = os.environ) -> Stores:
    """The profile's model store and feedback store, secrets taken from `environ`."""
    salt = environ.get(FEEDBACK_SALT) or None
    if not settings.is_production:
        return Stores(
            models=LocalModelStore(settings.models_dir),
            feedback=SqliteFeedbackStore(settings.feedback_db_path, salt),
        )
    connection = ElasticsearchConnection(
        settings.elasticsearch_url, environ.get(ES_API_KEY) or None, settings.es_index_prefix
    )
    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region
    )
    return Stores(
        models=S3ModelStore(
            client, settings.s3_bucket, settings.s3_prefix, endpoint_url=settings.s3_endpoint_url
        ),
        feedback=ElasticsearchFeedbackStore(connection, salt),
    )
