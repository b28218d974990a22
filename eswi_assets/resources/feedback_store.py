"""The `feedback_store` resource: Dagster's config for the plain feedback stores in
`eswi_assets.stores`. Assets and sensors ask for `dg.ResourceParam[FeedbackStore]` and receive the
plain store the resource creates (`create_resource`, Dagster's way to hand out an object it does
not define), the same class the serving app writes ratings through; the salt is a `dg.EnvVar`,
so it never enters run config, the UI or logs.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.stores.elasticsearch.connection import DEFAULT_REQUEST_TIMEOUT
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore

SALT_DESCRIPTION = "Secret salt for user-id hashes; set it with dg.EnvVar."


class SqliteFeedbackStoreResource(dg.ConfigurableResource):
    """Ratings in one SQLite file (the local profile); a salt is generated beside it if unset."""

    path: str = Field(description="SQLite file; created with its table on first use.")
    salt: str | None = Field(default=None, description=SALT_DESCRIPTION)

    def create_resource(self, context: dg.InitResourceContext) -> SqliteFeedbackStore:
        return SqliteFeedbackStore(self.path, self.salt)


class ElasticsearchFeedbackStoreResource(dg.ConfigurableResource):
    """Ratings in `<index_prefix>user_feedback` on the shared cluster (the production profile)."""

    elasticsearch: ElasticsearchResource
    salt: str | None = Field(default=None, description=SALT_DESCRIPTION)
    request_timeout: float = Field(default=DEFAULT_REQUEST_TIMEOUT, gt=0)

    def create_resource(self, context: dg.InitResourceContext) -> ElasticsearchFeedbackStore:
        return ElasticsearchFeedbackStore(
            self.elasticsearch.connection(), self.salt, self.request_timeout
        )
