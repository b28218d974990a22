"""The production IO manager for the text assets: one Elasticsearch index (behind an alias) each.

Seen from an asset it behaves like the local DuckDB one: storing a partitioned output replaces
the rows of its partitions (time window on the `partition_expr` column), storing an unpartitioned
one replaces everything, and loading returns the requested partitions (all of them for a reader
with `dg.AllPartitionMapping`) with the same columns and dtypes.

Replacing is write-then-delete-stale: documents have deterministic ids, so the new rows overwrite
the old ones in place and only rows that no longer exist are deleted afterwards (looked for only
when the partition holds more rows than were written); a reader never sees an empty partition,
and a re-run after a crash neither duplicates nor loses rows. A large load runs without periodic
refreshes (`bulk_loading`); every load ends with one refresh.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.stores.elasticsearch.docs import (
    BulkSettings,
    bulk_write,
    delete_missing,
    raise_for_failures,
    search_all,
)
from eswi_assets.stores.elasticsearch.frames import (
    ISO_FORMAT,
    DocumentLabels,
    naive_timestamps,
    to_documents,
    to_frame,
)
from eswi_assets.stores.elasticsearch.index import (
    ElasticsearchStoreError,
    bulk_loading,
    check_columns,
    ensure_index,
)


@dataclass(frozen=True)
class PartitionScope:
    """The rows one output or input covers: a time window on a column, or the whole index."""

    column: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @property
    def query(self) -> dict[str, Any]:
        if self.column is None:
            return {"match_all": {}}
        bounds = {"gte": self.start.strftime(ISO_FORMAT), "lt": self.end.strftime(ISO_FORMAT)}
        return {"range": {self.column: bounds}}

    def describe(self) -> str:
        if self.column is None:
            return "all rows"
        return f"{self.column} in [{self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M})"

    def rows_outside(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.column is None:
            return df.iloc[0:0]
        stamps = naive_timestamps(df[self.column])
        return df[(stamps < self.start) | (stamps >= self.end) | stamps.isna()]


def partition_scope(
    context: dg.InputContext | dg.OutputContext, metadata: dict[str, Any]
) -> PartitionScope:
    """Naive local bounds, compared with naive stored values, as the DuckDB IO manager does."""
    if not context.has_asset_partitions:
        return PartitionScope()
    column = metadata.get("partition_expr")
    if not column:
        raise ElasticsearchStoreError(
            f"Partitioned asset {context.asset_key.to_user_string()} has no `partition_expr` "
            "metadata naming its partition column; the Elasticsearch IO manager needs it."
        )
    window = context.asset_partitions_time_window
    return PartitionScope(
        column=str(column),
        start=window.start.replace(tzinfo=None),
        end=window.end.replace(tzinfo=None),
    )


class ElasticsearchIOManager(dg.ConfigurableIOManager):
    """Stores pandas DataFrames in Elasticsearch, one alias per asset (`<index_prefix><asset>`),
    with the explicit mapping of `deploy/elasticsearch/templates/<asset>.json`; the cluster is
    the `elasticsearch` resource the feedback store shares.
    """

    elasticsearch: ElasticsearchResource
    request_timeout: float = Field(default=60, gt=0, description="Seconds per request.")
    chunk_size: int = Field(default=1000, ge=1, description="Documents per bulk request, at most.")
    max_chunk_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="JSON bytes per bulk request, at most."
    )
    threads: int = Field(default=2, ge=1, description="Bulk requests in flight at once.")
    pause_refresh_from: int = Field(
        default=50_000,
        ge=0,
        description="Loads of at least this many rows run with refresh_interval -1 (restored "
        "after); switching costs two cluster-state updates, more than a short load saves.",
    )
    max_retries: int = Field(default=5, ge=0, description="Retries of a 429 (with backoff).")
    initial_backoff: float = Field(default=1.0, ge=0, description="Seconds; doubles per retry.")
    max_backoff: float = Field(default=30.0, ge=0)
    read_page_size: int = Field(default=2000, ge=1, le=10_000)

    @property
    def bulk_settings(self) -> BulkSettings:
        return BulkSettings(
            chunk_size=self.chunk_size,
            max_chunk_bytes=self.max_chunk_bytes,
            threads=self.threads,
            max_retries=self.max_retries,
            initial_backoff=self.initial_backoff,
            max_backoff=self.max_backoff,
        )

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        connection = self.elasticsearch.connection()
        template = connection.template(context.asset_key.to_python_identifier())
        scope = partition_scope(context, context.definition_metadata or {})
        check_columns(list(obj.columns), template)
        outside = scope.rows_outside(obj)
        if len(outside):
            raise ValueError(
                f"{len(outside)} row(s) of {template.name} lie outside the partitions being "
                f"stored ({scope.describe()}), e.g. {outside[scope.column].head(3).tolist()}."
            )
        documents = to_documents(obj, template, namespace=template.name)
        with connection.client(self.request_timeout) as es:
            alias = ensure_index(es, template, connection.index_prefix)
            actions = (
                {"_op_type": "index", "_index": alias, "_id": doc.id, "_source": doc.source}
                for doc in documents
            )
            pause = len(documents) >= self.pause_refresh_from
            with bulk_loading(es, alias, template, pause):
                written = bulk_write(es, actions, DocumentLabels(documents), self.bulk_settings)
                deleted = delete_missing(
                    es,
                    alias,
                    scope.query,
                    {doc.id for doc in documents},
                    self.bulk_settings,
                    written=written.succeeded,
                )
            es.indices.refresh(index=alias)
        where = f"{alias} ({scope.describe()})"
        raise_for_failures(written, where)
        raise_for_failures(deleted, f"removing stale rows of {where}")
        context.add_output_metadata(
            {
                "elasticsearch/index": dg.MetadataValue.text(alias),
                "elasticsearch/documents_written": dg.MetadataValue.int(written.succeeded),
                "elasticsearch/stale_documents_deleted": dg.MetadataValue.int(deleted.succeeded),
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        scope = partition_scope(context, (upstream.definition_metadata if upstream else {}) or {})
        return self.read(context.asset_key.to_python_identifier(), scope.query)

    def read(self, name: str, query: dict[str, Any] | None = None) -> pd.DataFrame:
        """The stored rows of asset `name` (all of them unless `query` narrows them), as the
        asset wrote them: operators and tests read a table here as they would in DuckDB."""
        connection = self.elasticsearch.connection()
        template = connection.template(name)
        alias = template.alias(connection.index_prefix)
        sort = [{field: "asc"} for field in template.id_fields]
        with connection.client(self.request_timeout) as es:
            if not es.indices.exists(index=alias):
                raise ElasticsearchStoreError(
                    f"Elasticsearch at {connection.url} has no index {alias}: materialize "
                    f"{template.name} first (or check index_prefix={connection.index_prefix!r})."
                )
            hits = search_all(
                es, alias, query or {"match_all": {}}, sort, page_size=self.read_page_size
            )
            with contextlib.closing(hits):
                sources = [hit["_source"] for hit in hits]
        return to_frame(sources, template)
