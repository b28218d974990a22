"""Moving documents: bulk writes that retry 429s and report every failed document, and reads
through a point in time with `search_after` (no deep from/size, no scroll left open).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import expand_action, streaming_bulk

from eswi_assets.stores.elasticsearch.index import ElasticsearchStoreError

SHOWN_FAILURES = 10

# One bulk request: the action line and the (already serialized) document line, if any.
Chunk = list[tuple[dict[str, Any], bytes | None]]


@dataclass(frozen=True)
class BulkSettings:
    """How hard a bulk write pushes and how long it waits out a busy cluster (429).

    A request closes at `chunk_size` documents or `max_chunk_bytes` of JSON, whichever comes
    first, so large pages (raw HTML) and short sentences both make requests of a useful size;
    `threads` requests are in flight at once, so the cluster indexes one while the next is built.
    """

    chunk_size: int = 500
    max_chunk_bytes: int = 10 * 1024 * 1024
    threads: int = 2
    max_retries: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 30.0


@dataclass(frozen=True)
class DocumentFailure:
    id: str
    label: str
    status: int
    reason: str


@dataclass
class BulkReport:
    succeeded: int = 0
    failed: list[DocumentFailure] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)  # _id -> "created", "updated", ...


class BulkWriteError(ElasticsearchStoreError):
    """Some documents were rejected; the others are stored."""

    def __init__(self, message: str, failures: list[DocumentFailure]) -> None:
        super().__init__(message)
        self.failures = failures


def bulk_write(
    es: Elasticsearch,
    actions: Iterable[dict[str, Any]],
    labels: Mapping[str, str],
    settings: BulkSettings,
) -> BulkReport:
    """Sends every action, `settings.threads` bulk requests at a time, collecting per-document
    failures.

    Each request goes through `streaming_bulk`, which retries whole-request and per-document
    429s with exponential backoff; a transport failure (node down) propagates once the requests
    in flight have finished, since nothing after it can be stored either.
    """
    report = BulkReport()
    serializer = es.transport.serializers.get_serializer("application/json")
    chunks = _chunks(actions, settings, serializer.dumps)
    try:
        with ThreadPoolExecutor(settings.threads, thread_name_prefix="bulk") as pool:
            in_flight: deque[Future[list[tuple[bool, dict[str, Any]]]]] = deque()
            try:
                for chunk in chunks:
                    in_flight.append(pool.submit(_send, es, chunk, settings))
                    if len(in_flight) > settings.threads:  # bounded: a frame is not copied whole
                        _collect(in_flight.popleft().result(), labels, report)
                while in_flight:
                    _collect(in_flight.popleft().result(), labels, report)
            finally:
                for future in in_flight:
                    future.cancel()
    except ApiError as error:
        if error.status_code != 429:
            raise
        raise ElasticsearchStoreError(
            f"Elasticsearch kept answering 429 Too Many Requests after {settings.max_retries} "
            f"retries with backoff; at least {report.succeeded} documents were stored before it "
            "gave up. The cluster is overloaded: re-run later, lower chunk_size or threads, "
            "raise max_retries / initial_backoff, or add capacity."
        ) from error
    return report


def _chunks(
    actions: Iterable[dict[str, Any]], settings: BulkSettings, dumps: Callable[[Any], bytes]
) -> Iterator[Chunk]:
    """Bulk requests by count and by bytes; each document is serialized once, here."""
    chunk: Chunk = []
    size = 0
    for action in actions:
        header, body = expand_action(action)
        data = None if body is None else dumps(body)
        # The action line is short: its repr is near enough its JSON length.
        line = len(str(header)) + 1 + (len(data) + 1 if data is not None else 0)
        if chunk and (len(chunk) == settings.chunk_size or size + line > settings.max_chunk_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((header, data))
        size += line
    if chunk:
        yield chunk


def _send(
    es: Elasticsearch, chunk: Chunk, settings: BulkSettings
) -> list[tuple[bool, dict[str, Any]]]:
    """One bulk request (and its 429 retries), kept whole: `_chunks` already sized it."""
    return list(
        streaming_bulk(
            es,
            chunk,
            chunk_size=len(chunk),
            max_chunk_bytes=2**62,
            expand_action_callback=_already_expanded,
            max_retries=settings.max_retries,
            initial_backoff=settings.initial_backoff,
            max_backoff=settings.max_backoff,
            raise_on_error=False,
            raise_on_exception=True,
        )
    )


def _already_expanded(
    pair: tuple[dict[str, Any], bytes | None],
) -> tuple[dict[str, Any], bytes | None]:
    return pair


def _collect(
    outcomes: list[tuple[bool, dict[str, Any]]], labels: Mapping[str, str], report: BulkReport
) -> None:
    for ok, item in outcomes:
        (outcome,) = item.values()
        doc_id = str(outcome.get("_id"))
        if ok:
            report.succeeded += 1
            report.results[doc_id] = outcome.get("result", "")
        else:
            report.failed.append(_failure(doc_id, labels.get(doc_id, doc_id), outcome))


def _failure(doc_id: str, label: str, outcome: dict[str, Any]) -> DocumentFailure:
    error = outcome.get("error", {})
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        if isinstance(error.get("caused_by"), dict):
            reason += f" ({error['caused_by'].get('reason', '')})"
    else:
        reason = str(error)
    return DocumentFailure(doc_id, label, int(outcome.get("status", 0)), reason)


def raise_for_failures(report: BulkReport, where: str) -> None:
    """Raises naming the rejected documents (and that the rest were stored)."""
    if not report.failed:
        return
    shown = "\n".join(
        f"  - {failure.label} [_id {failure.id}]: HTTP {failure.status} {failure.reason}"
        for failure in report.failed[:SHOWN_FAILURES]
    )
    more = len(report.failed) - SHOWN_FAILURES
    hint = (
        " Some were rejected with 429 (cluster overloaded): raise max_retries / initial_backoff."
        if any(failure.status == 429 for failure in report.failed)
        else " Fix those rows (or the index template) and re-run; the re-run overwrites."
    )
    raise BulkWriteError(
        f"Elasticsearch rejected {len(report.failed)} document(s) in {where}; the other "
        f"{report.succeeded} were stored.{hint}\n{shown}"
        + (f"\n  ... and {more} more" if more > 0 else ""),
        report.failed,
    )


def search_all(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sort: list[dict[str, Any]],
    page_size: int = 1000,
    keep_alive: str = "2m",
    source: bool = True,
    seq_no: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every hit of `query` in `sort` order, paged with a point in time and `search_after`.

    The point in time is closed when the generator finishes or is closed; wrap partial reads in
    `contextlib.closing`.
    """
    pit_id = es.open_point_in_time(index=index, keep_alive=keep_alive)["id"]
    try:
        search_after = None
        while True:
            page = es.search(
                pit={"id": pit_id, "keep_alive": keep_alive},
                query=query,
                sort=sort,
                size=page_size,
                search_after=search_after,
                source=source,
                seq_no_primary_term=seq_no,
                track_total_hits=False,
            )
            pit_id = page.get("pit_id", pit_id)
            hits = page["hits"]["hits"]
            yield from hits
            if len(hits) < page_size:
                return
            search_after = hits[-1]["sort"]
    finally:
        # If the cluster went away the point in time expires after keep_alive on its own;
        # the error that ended the read matters more than this one.
        with contextlib.suppress(TransportError, ApiError):
            es.close_point_in_time(id=pit_id)


def delete_missing(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    keep: set[str],
    settings: BulkSettings,
    written: int = 0,
) -> BulkReport:
    """Deletes the documents matching `query` whose ids are not in `keep`.

    `written` of the `keep` documents were just stored: when `query` matches no more than that,
    nothing is stale and the id scan is skipped (a first load, or a re-run of the same rows).
    Done by hand (ids through a point in time, then bulk deletes) rather than with
    _delete_by_query, which the integ-test distribution lacks (it is in the reindex module).
    """
    es.indices.refresh(index=index)
    if written and es.count(index=index, query=query)["count"] <= written:
        return BulkReport()
    with contextlib.closing(
        search_all(es, index, query, sort=[{"_shard_doc": "asc"}], source=False)
    ) as hits:
        stale = [hit["_id"] for hit in hits if hit["_id"] not in keep]
    actions = ({"_op_type": "delete", "_index": index, "_id": doc_id} for doc_id in stale)
    return bulk_write(es, actions, {doc_id: f"stale {doc_id}" for doc_id in stale}, settings)
