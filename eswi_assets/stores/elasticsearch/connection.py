"""Where the production stores live in Elasticsearch: one object for the cluster, its credentials
and the index prefix, shared by the IO manager and the feedback store so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from eswi_assets.stores.elasticsearch.index import (
    DEFAULT_TEMPLATES_DIR,
    IndexTemplate,
    connect,
    service_errors,
)

DEFAULT_REQUEST_TIMEOUT = 30


@dataclass(frozen=True)
class ElasticsearchConnection:
    """The cluster at `url`; every alias is `<index_prefix><name>`, every index template is
    `<templates_dir>/<name>.json`."""

    url: str
    api_key: str | None = None
    index_prefix: str = "eswi-"
    templates_dir: Path = DEFAULT_TEMPLATES_DIR

    def template(self, name: str) -> IndexTemplate:
        return IndexTemplate.load(name, Path(self.templates_dir))

    def new_client(self, request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> Elasticsearch:
        """A client of its own (thread-safe, pooled connections) for a caller that keeps it."""
        return connect(self.url, self.api_key, request_timeout)

    @contextmanager
    def client(self, request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> Iterator[Elasticsearch]:
        """A client, closed afterwards; transport failures inside become store errors that say
        which cluster failed and what to do."""
        with self.new_client(request_timeout) as es, service_errors(self.url):
            yield es
