"""The feedback store on Elasticsearch: the production twin of `SqliteFeedbackStore`.

One document per `feedback_id` (the document id), in the single-shard index behind
`<index_prefix>user_feedback`. The ever-growing `seq` the interface promises is the shard's own
sequence number (`_seq_no` + 1): Elasticsearch gives every new or changed document a larger one,
and an identical re-send is a `noop` update that keeps it. Reads stop at the shard's global
checkpoint, below which every operation is processed on every copy, so a refresh makes all of
them visible at once and a cursor can never skip a row that was still being indexed.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime
from typing import Any

import pandas as pd
from elasticsearch import Elasticsearch

from eswi_assets.stores.elasticsearch.connection import (
    DEFAULT_REQUEST_TIMEOUT,
    ElasticsearchConnection,
)
from eswi_assets.stores.elasticsearch.docs import (
    BulkSettings,
    bulk_write,
    raise_for_failures,
    search_all,
)
from eswi_assets.stores.elasticsearch.index import ElasticsearchStoreError, ensure_index
from eswi_assets.stores.feedback import (
    FeedbackBatch,
    FeedbackStats,
    FeedbackStore,
    StoredFeedback,
    as_utc,
    rows_to_frame,
)

TEMPLATE_NAME = "user_feedback"
CHANGED = {"created", "updated"}


class ElasticsearchFeedbackStore(FeedbackStore):
    """Ratings in Elasticsearch, in the alias `<index_prefix>user_feedback`; idempotent by
    `feedback_id`, read after a `seq` cursor."""

    def __init__(
        self,
        connection: ElasticsearchConnection,
        salt: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(salt)
        self.connection, self.request_timeout = connection, request_timeout

    @property
    def url(self) -> str:
        return self.connection.url

    @contextlib.contextmanager
    def _index(self):
        template = self.connection.template(TEMPLATE_NAME)
        with self.connection.client(self.request_timeout) as es:
            yield es, ensure_index(es, template, self.connection.index_prefix)

    def write(self, rows: list[StoredFeedback]) -> int:
        actions = (
            {
                "_op_type": "update",
                "_id": row.feedback_id,
                "doc": _source(row),
                "doc_as_upsert": True,
                "retry_on_conflict": 3,
            }
            for row in rows
        )
        with self._index() as (es, alias):
            report = bulk_write(
                es,
                ({**action, "_index": alias} for action in actions),
                {row.feedback_id: f"feedback_id={row.feedback_id}" for row in rows},
                BulkSettings(),
            )
            es.indices.refresh(index=alias)
        raise_for_failures(report, alias)
        return sum(result in CHANGED for result in report.results.values())

    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        with self._index() as (es, alias):
            checkpoint = _global_checkpoint(es, alias)
            es.indices.refresh(index=alias)
            # seq = _seq_no + 1, so seq > cursor is _seq_no >= cursor.
            query = {"range": {"_seq_no": {"gte": cursor, "lte": checkpoint}}}
            rows = _read(es, alias, query, limit)
        return FeedbackBatch(rows=rows, cursor=int(rows["seq"].max()) if len(rows) else cursor)

    def read_all(self) -> pd.DataFrame:
        with self._index() as (es, alias):
            es.indices.refresh(index=alias)
            return _read(es, alias, {"match_all": {}}, limit=None)

    def stats(self) -> FeedbackStats:
        with self._index() as (es, alias):
            es.indices.refresh(index=alias)
            count = es.count(index=alias)["count"]
            newest = _first(es, alias, {"created_at": "desc"})
            last = _first(es, alias, {"_seq_no": "desc"})
        return FeedbackStats(
            count=int(count),
            newest_created_at=datetime.fromisoformat(newest["_source"]["created_at"])
            if newest
            else None,
            max_seq=last["_seq_no"] + 1 if last else 0,
        )


def _source(row: StoredFeedback) -> dict[str, Any]:
    return {
        "feedback_id": row.feedback_id,
        "generation_id": row.generation_id,
        "model_version": row.model_version,
        "prompt": row.prompt,
        "response": row.response,
        "rating": row.rating,
        "user_hash": row.user_hash,
        "channel": row.channel,
        # Fixed width with an explicit offset: identical re-sends compare equal (noop), and
        # Kibana reads the time zone from the value.
        "created_at": as_utc(row.created_at).isoformat(timespec="microseconds"),
    }


def _read(es: Elasticsearch, alias: str, query: dict[str, Any], limit: int | None) -> pd.DataFrame:
    page_size = min(limit or 1000, 1000)
    hits = search_all(es, alias, query, [{"_seq_no": "asc"}], page_size=page_size, seq_no=True)
    with contextlib.closing(hits):
        return rows_to_frame(
            {**hit["_source"], "seq": hit["_seq_no"] + 1} for hit in itertools.islice(hits, limit)
        )


def _first(es: Elasticsearch, alias: str, order: dict[str, str]) -> dict[str, Any] | None:
    hits = es.search(index=alias, size=1, sort=[order], seq_no_primary_term=True)["hits"]["hits"]
    return hits[0] if hits else None


def _global_checkpoint(es: Elasticsearch, alias: str) -> int:
    """Sequence numbers up to here are processed on every copy of the one shard."""
    stats = es.indices.stats(index=alias, metric="docs", level="shards")["indices"]
    (index_stats,) = stats.values()
    shards = index_stats["shards"]
    if len(shards) != 1:
        raise ElasticsearchStoreError(
            f"Feedback index {alias} has {len(shards)} shards; its cursor needs exactly one. "
            "Reindex it into an index created from deploy/elasticsearch/templates/"
            "user_feedback.json."
        )
    (copies,) = shards.values()
    primary = next(copy for copy in copies if copy["routing"]["primary"])
    return int(primary["seq_no"]["global_checkpoint"])
