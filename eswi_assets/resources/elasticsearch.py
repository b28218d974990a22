"""The Elasticsearch cluster as a Dagster resource: configured once in `profiles.py` and nested in
both the IO manager and the feedback store, so the two always talk to the same indices."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.index import DEFAULT_TEMPLATES_DIR


class ElasticsearchResource(dg.ConfigurableResource):
    """Where the production stores live: the cluster, its API key and the index prefix."""

    url: str = Field(description="Elasticsearch URL, e.g. https://es.internal:9200.")
    api_key: str | None = Field(
        default=None, description="API key; set it with dg.EnvVar('ESWI_ELASTICSEARCH_API_KEY')."
    )
    index_prefix: str = Field(default="eswi-", description="Aliases are <prefix><asset name>.")
    templates_dir: str = Field(default=str(DEFAULT_TEMPLATES_DIR))

    def connection(self) -> ElasticsearchConnection:
        return ElasticsearchConnection(
            self.url, self.api_key or None, self.index_prefix, Path(self.templates_dir)
        )
