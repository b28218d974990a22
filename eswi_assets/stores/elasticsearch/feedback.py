"""The feedback store on Elasticsearch: the production twin of `SqliteFeedbackStore`, and the
serving state every replica of the app shares.

One document per unit (`feedback_id` is the document id) in the single-shard index behind
`<index_prefix>user_feedback`; a rating is a new version of the unit's own document, written
with optimistic concurrency (`if_seq_no` / `if_primary_term`, re-read and retried on a
conflict), so the version that holds a rating is the one its request acknowledged, and the last
acknowledged rating is the one stored. Reads of a unit are real-time GETs, so a rating reaches a
generation another replica served a moment ago.

The ever-growing `seq` the interface promises is the shard's own sequence number (`_seq_no` +
1): Elasticsearch gives every new or changed document a larger one. Reads stop at the shard's
global checkpoint, below which every operation is processed on every copy, so a refresh makes
all of them visible at once and a cursor can never skip a row that was still being indexed.

A/B assignments and seen LINE webhook ids live in `<prefix>serving_assignments` and
`<prefix>serving_line_events` (an event id is created with `op_type=create`, so exactly one
replica sees its first delivery). Pruning is a range query through a point in time and bulk
deletes (no `_delete_by_query`, which the integ-test distribution lacks, and no ILM, which
cannot keep rated units); a unit is deleted only at the version the query saw, so one rated
meanwhile stays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from elasticsearch import ConflictError, Elasticsearch, NotFoundError

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
from eswi_assets.stores.elasticsearch.frames import document_id
from eswi_assets.stores.elasticsearch.index import (
    ElasticsearchStoreError,
    ensure_index,
    service_errors,
)
from eswi_assets.stores.feedback import (
    FeedbackBatch,
    FeedbackStats,
    FeedbackStore,
    Stored,
    Unit,
    Verdict,
    applied,
    as_utc,
    rows_to_frame,
    unchanged,
)

TEMPLATE_NAME = "user_feedback"
ASSIGNMENTS = "serving_assignments"
LINE_EVENTS = "serving_line_events"
MAX_CONFLICTS = 100
_RATED = {"exists": {"field": "created_at"}}
_TIMES = ("served_at", "created_at")
_VERSION_CONFLICT = 409


class ElasticsearchFeedbackStore(FeedbackStore):
    """Units and their verdicts in the alias `<index_prefix>user_feedback`; idempotent by
    `feedback_id`, read after a `seq` cursor."""

    def __init__(
        self,
        connection: ElasticsearchConnection,
        salt: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(salt)
        self.connection, self.request_timeout = connection, request_timeout
        self._aliases: dict[str, str] = {}
        self._client: Elasticsearch | None = None
        self._client_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.connection.url

    def _es(self) -> Elasticsearch:
        """One client per store, made on first use: the serving app calls the store on every
        generation and rating, and a client per call would open new connections each time."""
        with self._client_lock:
            if self._client is None:
                self._client = self.connection.new_client(self.request_timeout)
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    @contextlib.contextmanager
    def _index(self, name: str = TEMPLATE_NAME) -> Iterator[tuple[Elasticsearch, str]]:
        """The store's client and the alias of `name`; templates are installed once per store
        object, not on every rating. Transport failures become store errors naming the cluster."""
        with service_errors(self.url):
            es = self._es()
            if name not in self._aliases:
                template = self.connection.template(name)
                self._aliases[name] = ensure_index(es, template, self.connection.index_prefix)
            yield es, self._aliases[name]

    def add_unit(self, unit: Unit) -> bool:
        with self._index() as (es, alias):
            try:
                es.index(index=alias, id=unit.feedback_id, document=_source(unit), op_type="create")
            except ConflictError:
                return False
        return True

    def unit(self, feedback_id: str) -> Unit | None:
        with self._index() as (es, alias):
            return _get(es, alias, feedback_id)[0]

    def record(self, feedback_id: str, verdict: Verdict) -> Stored | None:
        with self._index() as (es, alias):
            for _ in range(MAX_CONFLICTS):
                unit, primary_term = _get(es, alias, feedback_id)
                if unit is None:
                    return None
                new = applied(unit, verdict)
                if new is None:
                    return unchanged(unit)
                try:
                    written = es.index(
                        index=alias,
                        id=feedback_id,
                        document=_source(new),
                        if_seq_no=unit.seq - 1,
                        if_primary_term=primary_term,
                    )
                except ConflictError:
                    continue  # another request wrote first: apply ours to its version
                seq = written["_seq_no"] + 1
                assert new.created_at is not None
                first_seq = new.first_seq if new.first_seq is not None else seq
                return Stored(True, seq, first_seq, new.created_at)
        raise ElasticsearchStoreError(
            f"unit {feedback_id} in {alias} kept changing under {MAX_CONFLICTS} attempts to "
            "store a rating; retry the request"
        )

    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        with self._index() as (es, alias):
            checkpoint = _global_checkpoint(es, alias)
            es.indices.refresh(index=alias)
            # seq = _seq_no + 1, so seq > cursor is _seq_no >= cursor.
            seqs = {"range": {"_seq_no": {"gte": cursor, "lte": checkpoint}}}
            rows = _read(es, alias, {"bool": {"filter": [seqs, _RATED]}}, limit)
        return FeedbackBatch(rows=rows, cursor=int(rows["seq"].max()) if len(rows) else cursor)

    def read_all(self) -> pd.DataFrame:
        with self._index() as (es, alias):
            es.indices.refresh(index=alias)
            return _read(es, alias, _RATED, limit=None)

    def stats(self) -> FeedbackStats:
        with self._index() as (es, alias):
            es.indices.refresh(index=alias)
            count = es.count(index=alias, query=_RATED)["count"]
            newest = _first(es, alias, {"created_at": "desc"})
            last = _first(es, alias, {"_seq_no": "desc"})
        return FeedbackStats(
            count=int(count),
            newest_created_at=datetime.fromisoformat(newest["_source"]["created_at"])
            if newest
            else None,
            max_seq=last["_seq_no"] + 1 if last else 0,
        )

    def record_assignment(self, experiment: str, user_hash: str, variant: str) -> None:
        doc_id = document_id(ASSIGNMENTS, [experiment, user_hash])
        with self._index(ASSIGNMENTS) as (es, alias):
            found = es.options(ignore_status=404).get(index=alias, id=doc_id)
            if found.get("found") and found["_source"]["variant"] == variant:
                return
            es.index(
                index=alias,
                id=doc_id,
                document={
                    "experiment": experiment,
                    "user_hash": user_hash,
                    "variant": variant,
                    "assigned_at": _iso(datetime.now(UTC)),
                },
            )

    def assignments(self, experiment: str) -> dict[str, str]:
        with self._index(ASSIGNMENTS) as (es, alias):
            es.indices.refresh(index=alias)
            query = {"term": {"experiment": experiment}}
            with contextlib.closing(search_all(es, alias, query, [{"_shard_doc": "asc"}])) as hits:
                return {hit["_source"]["user_hash"]: hit["_source"]["variant"] for hit in hits}

    def first_delivery(self, webhook_event_id: str) -> bool:
        with self._index(LINE_EVENTS) as (es, alias):
            document = {
                "webhook_event_id": webhook_event_id,
                "received_at": _iso(datetime.now(UTC)),
            }
            try:
                es.index(index=alias, id=webhook_event_id, document=document, op_type="create")
            except ConflictError:
                return False
        return True

    def prune(self, retention: timedelta) -> int:
        cutoff = _iso(datetime.now(UTC) - retention)
        stale_units = {
            "bool": {
                "filter": [{"range": {"served_at": {"lt": cutoff}}}],
                "must_not": [_RATED],
            }
        }
        with self._index() as (es, alias):
            gone = _delete_matching(es, alias, stale_units)
        with self._index(LINE_EVENTS) as (es, alias):
            _delete_matching(es, alias, {"range": {"received_at": {"lt": cutoff}}})
        return gone


def _iso(value: datetime) -> str:
    """Fixed width with an explicit offset: Kibana reads the time zone from the value."""
    return as_utc(value).isoformat(timespec="microseconds")


def _source(unit: Unit) -> dict[str, Any]:
    fields = {
        name: _iso(value) if name in _TIMES and value is not None else value
        for name, value in vars(unit).items()
        if name != "seq"
    }
    return {name: value for name, value in fields.items() if value is not None}


def _get(es: Elasticsearch, alias: str, feedback_id: str) -> tuple[Unit | None, int]:
    """The unit (real-time, whether refreshed or not) and its primary term."""
    try:
        found = es.get(index=alias, id=feedback_id)
    except NotFoundError:
        return None, 0
    source = dict(found["_source"])
    for name in _TIMES:
        if source.get(name):
            source[name] = datetime.fromisoformat(source[name])
    source.setdefault("kind", "rating")
    source.setdefault("served_at", source.get("created_at"))
    unit = Unit(**source, seq=found["_seq_no"] + 1)
    return unit, found["_primary_term"]


def _read(es: Elasticsearch, alias: str, query: dict[str, Any], limit: int | None) -> pd.DataFrame:
    page_size = min(limit or 1000, 1000)
    hits = search_all(es, alias, query, [{"_seq_no": "asc"}], page_size=page_size, seq_no=True)
    with contextlib.closing(hits):
        return rows_to_frame(
            {**hit["_source"], "seq": hit["_seq_no"] + 1} for hit in itertools.islice(hits, limit)
        )


def _first(es: Elasticsearch, alias: str, order: dict[str, str]) -> dict[str, Any] | None:
    hits = es.search(index=alias, size=1, sort=[order], query=_RATED, seq_no_primary_term=True)[
        "hits"
    ]["hits"]
    return hits[0] if hits else None


def _delete_matching(es: Elasticsearch, alias: str, query: dict[str, Any]) -> int:
    """Deletes what `query` matches, each document only at the version the query saw."""
    es.indices.refresh(index=alias)
    hits = search_all(es, alias, query, [{"_shard_doc": "asc"}], source=False, seq_no=True)
    with contextlib.closing(hits):
        actions = [
            {
                "_op_type": "delete",
                "_index": hit["_index"],
                "_id": hit["_id"],
                "if_seq_no": hit["_seq_no"],
                "if_primary_term": hit["_primary_term"],
            }
            for hit in hits
        ]
    report = bulk_write(
        es, actions, {a["_id"]: f"stale {a['_id']}" for a in actions}, BulkSettings()
    )
    # A version conflict is a unit rated after the query saw it: it stays.
    failed = [failure for failure in report.failed if failure.status != _VERSION_CONFLICT]
    raise_for_failures(dataclasses.replace(report, failed=failed), alias)
    return report.succeeded


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
