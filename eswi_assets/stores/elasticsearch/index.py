"""Indices behind the production stores: a client, the repo's index templates, one alias each.

Every asset (and the feedback store) lives in `<prefix><name>`, an alias over the concrete index
`<prefix><name>-000001` created from `deploy/elasticsearch/templates/<name>.json`. The explicit
mapping (dates as `date`, ids and categories as `keyword`, Chinese text through `cjk`) is what a
Kibana dashboard needs without reindexing; the alias lets an operator reindex into a new index
and switch over when a mapping must change.

Failures are raised as `ElasticsearchStoreError`s that name the service and what to do about it.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    TransportError,
)

DEFAULT_TEMPLATES_DIR = (
    Path(__file__).resolve().parents[3] / "deploy" / "elasticsearch" / "templates"
)
# 429 is left to streaming_bulk, which retries it with backoff; the client would retry at once.
CLIENT_RETRY_STATUSES = (502, 503, 504)


class ElasticsearchStoreError(RuntimeError):
    """Something went wrong in Elasticsearch; the message names the remedy."""


class ElasticsearchUnavailableError(ElasticsearchStoreError):
    """The cluster could not be reached (down, wrong URL, or timing out)."""


class MappingConflictError(ElasticsearchStoreError):
    """An index, or the data written to it, disagrees with the index template in the repo."""


def connect(url: str, api_key: str | None = None, request_timeout: float = 30) -> Elasticsearch:
    return Elasticsearch(
        url,
        api_key=api_key or None,
        request_timeout=request_timeout,
        max_retries=3,
        retry_on_status=CLIENT_RETRY_STATUSES,
        retry_on_timeout=True,
    )


@contextmanager
def service_errors(url: str) -> Iterator[None]:
    """Turns transport failures into errors that say which service failed and what to do."""
    try:
        yield
    except (ConnectionError, ConnectionTimeout) as error:
        raise ElasticsearchUnavailableError(
            f"Elasticsearch at {url} is unreachable ({error.message}). Start the cluster or point "
            "ESWI_ELASTICSEARCH_URL at a running one, then re-run: writes use deterministic ids, "
            "so a re-run overwrites whatever part was stored."
        ) from error
    except (AuthenticationException, AuthorizationException) as error:
        raise ElasticsearchStoreError(
            f"Elasticsearch at {url} refused the credentials ({error.message}): set "
            "ESWI_ELASTICSEARCH_API_KEY to an API key allowed to manage and write the eswi-* "
            "indices and index templates."
        ) from error


@dataclass(frozen=True)
class IndexTemplate:
    """One `<name>.json` composable index template, as kept in the repo."""

    name: str
    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, name: str, templates_dir: Path = DEFAULT_TEMPLATES_DIR) -> IndexTemplate:
        path = Path(templates_dir) / f"{name}.json"
        if not path.is_file():
            raise MappingConflictError(
                f"No Elasticsearch index template for {name!r}: add {path} (see the other "
                "templates there) so the index gets an explicit mapping."
            )
        return cls(name=name, path=path, body=json.loads(path.read_text()))

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        """Field mappings in file order, which is also the column order of frames read back."""
        return self.body["template"]["mappings"]["properties"]

    @property
    def columns(self) -> list[str]:
        return list(self.properties)

    @property
    def id_fields(self) -> list[str]:
        """Fields that identify a row; documents ids are derived from them, reads sort by them."""
        return list(self.body["_meta"]["id_fields"])

    def alias(self, prefix: str) -> str:
        return f"{prefix}{self.name}"

    def body_for(self, prefix: str) -> dict[str, Any]:
        body = copy.deepcopy(self.body)
        body["index_patterns"] = [f"{self.alias(prefix)}-*"]
        return body


def ensure_index(es: Elasticsearch, template: IndexTemplate, prefix: str) -> str:
    """Installs the template, creates the first index behind the alias if needed, reconciles
    the mapping (new template fields are added; changed ones are conflicts) and returns the alias.
    """
    alias = template.alias(prefix)
    try:
        es.indices.put_index_template(name=alias, **template.body_for(prefix))
        if not es.indices.exists(index=alias):
            _create_first_index(es, alias)
    except ApiError as error:
        raise MappingConflictError(
            f"Elasticsearch rejected index template {template.path} for {alias}: "
            f"{_reason(error)}. Fix the template (the `cjk` analyzer needs the analysis-common "
            "module, which the full distribution ships and scripts/elasticsearch/install.sh "
            "adds to the test node)."
        ) from error
    reconcile_mapping(es, alias, template)
    return alias


def _create_first_index(es: Elasticsearch, alias: str) -> None:
    try:
        es.indices.create(index=f"{alias}-000001", aliases={alias: {"is_write_index": True}})
    except ApiError as error:
        if error.error != "resource_already_exists_exception":  # another run created it first
            raise


def reconcile_mapping(es: Elasticsearch, alias: str, template: IndexTemplate) -> None:
    wanted = template.properties
    for index, found in es.indices.get_mapping(index=alias).body.items():
        live = found["mappings"].get("properties", {})
        conflicts = [
            f"{field!r} is {_describe(live[field])} in the index but {_describe(spec)} in the "
            "template"
            for field, spec in wanted.items()
            if field in live and _describe(live[field]) != _describe(spec)
        ]
        if conflicts:
            raise MappingConflictError(
                f"Elasticsearch index {index} (alias {alias}) conflicts with {template.path}: "
                f"{'; '.join(conflicts)}. Remedy: create a new index from the template, "
                f"_reindex into it and move the alias {alias} there, or delete {index} and "
                "re-materialize the asset."
            )
        missing = {field: spec for field, spec in wanted.items() if field not in live}
        if missing:
            es.indices.put_mapping(index=index, properties=missing)


@contextmanager
def bulk_loading(
    es: Elasticsearch, alias: str, template: IndexTemplate, pause: bool = True
) -> Iterator[None]:
    """With `pause`, no periodic refresh on the indices behind `alias` while a bulk load runs:
    one refresh at the end instead of a new segment every second. Each index gets its previous
    `refresh_interval` back afterwards, on failure too; one left at -1 by a load that died
    before restoring it gets the template's (or Elasticsearch's default), paused or not.

    Replicas are left alone: dropping them for a load would re-copy the whole index, not just
    the partition written, when they come back.
    """
    previous = {
        index: body["settings"]["index"].get("refresh_interval")
        for index, body in es.indices.get_settings(index=alias).body.items()
    }
    if pause:
        for index in previous:
            es.indices.put_settings(index=index, settings={"index.refresh_interval": "-1"})
    else:  # only repair what a dead load left behind
        previous = {index: interval for index, interval in previous.items() if interval == "-1"}
    try:
        yield
    except BaseException:
        # The error that stopped the load matters more; the next load restores the interval.
        with contextlib.suppress(ApiError, TransportError):
            _restore_refresh(es, previous, template)
        raise
    else:
        _restore_refresh(es, previous, template)


def _restore_refresh(
    es: Elasticsearch, previous: dict[str, str | None], template: IndexTemplate
) -> None:
    settings = template.body["template"].get("settings", {})
    default = settings.get("refresh_interval", settings.get("index", {}).get("refresh_interval"))
    for index, interval in previous.items():
        restored = default if interval == "-1" else interval
        es.indices.put_settings(index=index, settings={"index.refresh_interval": restored})


def _describe(spec: dict[str, Any]) -> str:
    kind = spec.get("type", "object")
    return f"{kind} ({spec['analyzer']})" if "analyzer" in spec else kind


def _reason(error: ApiError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    cause = info.get("error", {})
    return cause.get("reason", str(error)) if isinstance(cause, dict) else str(error)


def check_columns(columns: list[str], template: IndexTemplate) -> None:
    """Refuses columns the mapping does not know, before anything is written."""
    unknown = [column for column in columns if column not in template.properties]
    if unknown:
        raise MappingConflictError(
            f"Columns {unknown} are not in Elasticsearch index template {template.path} "
            "(the mapping is strict, every document would be rejected): add them to the "
            "template, or stop producing them."
        )
