"""Bulk loads through the IO manager against a real node: no periodic refresh while loading and
the index's own interval back afterwards (after a failure too), requests sized by bytes, and
stale rows removed exactly even when the load is partly rejected.
"""

from __future__ import annotations

import dagster as dg
import pytest
from elasticsearch import Elasticsearch

import eswi_assets.stores.elasticsearch.docs as elasticsearch_docs
from eswi_assets.stores.elasticsearch.docs import BulkWriteError
from eswi_assets.stores.elasticsearch.index import ElasticsearchStoreError
from eswi_assets_tests.elasticsearch.standins import partitioned, raw_pages_frame, read_back

DAY1 = "2026-11-01"


def paths(n: int, tag: str = "p") -> list[str]:
    return [f"{tag}{i:03d}" for i in range(n)]


def run(asset: dg.AssetsDefinition, io_manager: dg.IOManager, **kwargs) -> None:
    dg.materialize([asset], resources={"io_manager": io_manager}, **kwargs)


def refresh_interval(es: Elasticsearch, alias: str) -> str | None:
    """The interval set on the index behind `alias` (None: Elasticsearch's default)."""
    (found,) = es.indices.get_settings(index=alias).body.values()
    return found["settings"]["index"].get("refresh_interval")


def intervals_seen_by_each_request(monkeypatch, es: Elasticsearch, alias: str) -> list:
    """The index's refresh interval as each bulk request of the next load goes out."""
    during: list[str | None] = []
    real_bulk = elasticsearch_docs.streaming_bulk

    def bulk_noting_the_interval(*args, **kwargs):
        during.append(refresh_interval(es, alias))
        yield from real_bulk(*args, **kwargs)

    monkeypatch.setattr(elasticsearch_docs, "streaming_bulk", bulk_noting_the_interval)
    return during


def with_bad_attempts(day: str, good: list[str], bad: list[str]):
    """raw_pages rows; those of `bad` carry text in the integer `attempts` field."""
    frame = raw_pages_frame(day, good + bad)
    frame["attempts"] = frame["attempts"].astype(object)
    frame.loc[len(good) :, "attempts"] = "很多"
    return frame


@pytest.mark.parametrize(
    ("pause_refresh_from", "while_loading"),
    [(0, "-1"), (1000, "5s")],
    ids=["large load: no periodic refresh", "small load: interval left alone"],
)
def test_the_refresh_interval_while_loading_and_after(
    make_io_manager, es, index_prefix, monkeypatch, pause_refresh_from, while_loading
):
    io_manager = make_io_manager(pause_refresh_from=pause_refresh_from)
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(50))})
    run(raw, io_manager, partition_key=DAY1)
    alias = f"{index_prefix}raw_pages"
    es.indices.put_settings(index=alias, settings={"index.refresh_interval": "5s"})
    during = intervals_seen_by_each_request(monkeypatch, es, alias)
    run(raw, io_manager, partition_key=DAY1)

    assert during == [while_loading] * 3  # 50 rows in requests of 20
    assert refresh_interval(es, alias) == "5s"
    assert es.count(index=alias)["count"] == 50  # refreshed at the end, so all are searchable


def test_a_partly_rejected_load_raises_with_counts_and_restores_the_interval(
    io_manager, es, index_prefix
):
    raw = partitioned("raw_pages", {DAY1: with_bad_attempts(DAY1, paths(40), paths(3, "bad"))})

    with pytest.raises(BulkWriteError, match="rejected 3 document") as failure:
        run(raw, io_manager, partition_key=DAY1)

    assert "the other 40 were stored" in str(failure.value)
    assert len(failure.value.failures) == 3
    assert all("attempts" in f.reason or f.status == 400 for f in failure.value.failures)
    alias = f"{index_prefix}raw_pages"
    assert refresh_interval(es, alias) is None  # as the template left it
    assert es.count(index=alias)["count"] == 40


def test_a_load_cut_short_restores_the_interval(
    io_manager, make_io_manager, rejecting_proxy, es, index_prefix
):
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(5))})
    run(raw, io_manager, partition_key=DAY1)
    alias = f"{index_prefix}raw_pages"
    es.indices.put_settings(index=alias, settings={"index.refresh_interval": "5s"})

    with (
        rejecting_proxy(reject=None) as proxy,
        pytest.raises(ElasticsearchStoreError, match="429 Too Many Requests"),
    ):
        run(raw, make_io_manager(url=proxy.url, max_retries=1), partition_key=DAY1)

    assert proxy.bulk_requests == 2
    assert refresh_interval(es, alias) == "5s"


@pytest.mark.parametrize("pause_refresh_from", [0, 1000], ids=["large load", "small load"])
def test_an_interval_left_off_by_a_load_that_died_gets_the_default_back(
    make_io_manager, es, index_prefix, pause_refresh_from
):
    io_manager = make_io_manager(pause_refresh_from=pause_refresh_from)
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(5))})
    run(raw, io_manager, partition_key=DAY1)
    alias = f"{index_prefix}raw_pages"
    es.indices.put_settings(index=alias, settings={"index.refresh_interval": "-1"})

    run(raw, io_manager, partition_key=DAY1)

    assert refresh_interval(es, alias) is None


def test_bulk_requests_are_sized_by_bytes(make_io_manager, rejecting_proxy, io_manager):
    frame = raw_pages_frame(DAY1, paths(20))
    frame["html"] = [f"<html><p>{'社區志工陪伴長輩' * 1000}</p>{i}</html>" for i in range(20)]
    raw = partitioned("raw_pages", {DAY1: frame})
    limit = 64 * 1024  # each document is ~24 KB of UTF-8

    with rejecting_proxy(reject=0) as proxy:
        run(
            raw,
            make_io_manager(url=proxy.url, chunk_size=1000, max_chunk_bytes=limit),
            partition_key=DAY1,
        )

    assert len(proxy.bulk_bytes) >= 20 * 24_000 // limit
    assert max(proxy.bulk_bytes) <= limit
    stored = read_back(raw, io_manager)
    assert sorted(stored["html"]) == sorted(frame["html"])


def test_rerun_with_rejected_rows_still_removes_rows_that_no_longer_exist(
    io_manager, es, index_prefix
):
    frames = {DAY1: raw_pages_frame(DAY1, paths(3))}
    raw = partitioned("raw_pages", frames)
    run(raw, io_manager, partition_key=DAY1)
    frames[DAY1] = with_bad_attempts(DAY1, paths(1), paths(2, "new"))  # as many rows as before

    with pytest.raises(BulkWriteError, match="the other 1 were stored"):
        run(raw, io_manager, partition_key=DAY1)

    stored = read_back(raw, io_manager)
    assert list(stored["url"]) == list(frames[DAY1]["url"][:1])


def test_rerun_of_the_same_rows_reads_no_ids(make_io_manager, rejecting_proxy, io_manager):
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(30))})
    run(raw, io_manager, partition_key=DAY1)

    with rejecting_proxy(reject=0) as proxy:
        run(raw, make_io_manager(url=proxy.url), partition_key=DAY1)

    assert proxy.bulk_requests == 2
    assert not [path for path in proxy.paths if "_pit" in path]
    assert len(read_back(raw, io_manager)) == 30
