"""The Elasticsearch IO manager against a real node: partition replacement, per-document errors,
outages, 429 storms, mapping conflicts, point-in-time reads and what a dashboard needs.
"""

from __future__ import annotations

import itertools

import dagster as dg
import pandas as pd
import pytest
from dagster_duckdb_pandas import DuckDBPandasIOManager

import eswi_assets.stores.elasticsearch.docs as elasticsearch_docs
from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets.stores.elasticsearch.docs import BulkWriteError
from eswi_assets.stores.elasticsearch.index import (
    ElasticsearchStoreError,
    ElasticsearchUnavailableError,
    MappingConflictError,
)
from eswi_assets_tests.elasticsearch.standins import (
    RANGE_TAGS,
    corpus_frame,
    labels_frame,
    partitioned,
    raw_pages_frame,
    read_back,
    unpartitioned,
)
from eswi_assets_tests.es_node import free_port

DAY1, DAY2 = "2026-11-01", "2026-11-02"


def paths(n: int, tag: str = "p") -> list[str]:
    return [f"{tag}{i:03d}" for i in range(n)]


def run(
    asset: dg.AssetsDefinition, io_manager: dg.IOManager, **kwargs
) -> dg.ExecuteInProcessResult:
    return dg.materialize([asset], resources={"io_manager": io_manager}, **kwargs)


def test_rerun_of_partition_replaces_rows_instead_of_duplicating(io_manager, es, index_prefix):
    frames = {DAY1: raw_pages_frame(DAY1, paths(30)), DAY2: raw_pages_frame(DAY2, paths(25))}
    raw_pages = partitioned("raw_pages", frames)
    run(raw_pages, io_manager, tags=dict(zip(RANGE_TAGS, (DAY1, DAY2), strict=True)))

    new_day1 = raw_pages_frame(DAY1, paths(10) + paths(4, "new"))
    new_day1.loc[0, "title"] = "改過的標題"
    frames[DAY1] = new_day1
    result = run(raw_pages, io_manager, partition_key=DAY1)

    stored = read_back(raw_pages, io_manager)
    day1 = stored[stored["partition_date"] == pd.Timestamp(DAY1)]
    assert sorted(day1["url"]) == sorted(new_day1["url"])
    assert day1.set_index("url").loc[new_day1.loc[0, "url"], "title"] == "改過的標題"
    assert (stored["partition_date"] == pd.Timestamp(DAY2)).sum() == 25
    assert es.count(index=f"{index_prefix}raw_pages")["count"] == 14 + 25
    materialization = result.asset_materializations_for_node("raw_pages")[0]
    assert materialization.metadata["elasticsearch/stale_documents_deleted"].value == 20


def test_frames_come_back_with_duckdb_columns_and_dtypes(io_manager, tmp_path):
    duckdb = DuckDBPandasIOManager(database=str(tmp_path / "local.duckdb"), schema="eswi")
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(9))})
    corpus = partitioned("cleaned_corpus", {DAY1: corpus_frame(DAY1, paths(5, "d"))})
    labels = unpartitioned("labeled_sentiment", lambda: labels_frame(paths(6, "s")))
    for asset in (raw, corpus):
        for manager in (duckdb, io_manager):
            run(asset, manager, partition_key=DAY1)
    for manager in (duckdb, io_manager):
        run(labels, manager)

    for asset in (raw, corpus, labels):
        from_duckdb = read_back(asset, duckdb)
        from_es = read_back(asset, io_manager)
        assert list(from_es.columns) == list(from_duckdb.columns)
        key = from_es.columns[1] if asset is not labels else "sentence_id"
        pd.testing.assert_frame_equal(
            from_es.sort_values(key, ignore_index=True),
            from_duckdb.sort_values(key, ignore_index=True),
        )


def test_partitioned_reader_gets_only_its_partition(io_manager):
    raw = partitioned(
        "raw_pages", {DAY1: raw_pages_frame(DAY1, paths(3)), DAY2: raw_pages_frame(DAY2, paths(4))}
    )
    seen: dict[str, pd.DataFrame] = {}

    @dg.asset(partitions_def=raw.partitions_def, metadata={"partition_expr": "partition_date"})
    def cleaned_corpus(raw_pages: pd.DataFrame) -> pd.DataFrame:
        seen["raw_pages"] = raw_pages
        return corpus_frame(DAY2, [f"d-{url[-4:]}" for url in raw_pages["url"]])

    run(raw, io_manager, tags=dict(zip(RANGE_TAGS, (DAY1, DAY2), strict=True)))
    dg.materialize(
        [raw, cleaned_corpus],
        selection=[cleaned_corpus],
        partition_key=DAY2,
        resources={"io_manager": io_manager},
    )
    assert set(seen["raw_pages"]["partition_date"]) == {pd.Timestamp(DAY2)}
    assert len(seen["raw_pages"]) == 4
    assert len(read_back(cleaned_corpus, io_manager, raw)) == 4


def test_malformed_document_is_reported_by_name_and_the_rest_are_stored(io_manager, es):
    frame = corpus_frame(DAY1, paths(12, "d"))
    frame["length"] = frame["length"].astype(object)
    frame.loc[7, "length"] = "很長"
    corpus = partitioned("cleaned_corpus", {DAY1: frame})

    with pytest.raises(BulkWriteError) as failure:
        run(corpus, io_manager, partition_key=DAY1)

    assert [f.label for f in failure.value.failures] == [
        "partition_date=2026-11-01T00:00:00.000000, doc_id=d007"
    ]
    assert "doc_id=d007" in str(failure.value)
    assert "the other 11 were stored" in str(failure.value)
    stored = read_back(corpus, io_manager)
    assert sorted(stored["doc_id"]) == [d for d in paths(12, "d") if d != "d007"]


def test_node_stopped_mid_write_then_rerun_stores_every_row_once(
    io_manager, es_node, index_prefix, es, monkeypatch
):
    if es_node is None:
        pytest.skip("needs the node this session started (ESWI_TEST_ES_URL points elsewhere)")
    frame = raw_pages_frame(DAY1, paths(200))
    raw = partitioned("raw_pages", {DAY1: frame})
    real_bulk = elasticsearch_docs.streaming_bulk
    acknowledged = itertools.count(1)

    def bulk_then_stop_the_node(*args, **kwargs):
        for result in real_bulk(*args, **kwargs):  # one request of 20, from a bulk thread
            yield result
            if next(acknowledged) == 60:  # three bulk requests are acknowledged
                es_node.stop()

    monkeypatch.setattr(elasticsearch_docs, "streaming_bulk", bulk_then_stop_the_node)
    try:
        with pytest.raises(ElasticsearchUnavailableError, match="unreachable"):
            run(raw, io_manager, partition_key=DAY1)
    finally:
        es_node.start()
    monkeypatch.setattr(elasticsearch_docs, "streaming_bulk", real_bulk)
    es.indices.refresh(index=f"{index_prefix}raw_pages")
    assert 60 <= es.count(index=f"{index_prefix}raw_pages")["count"] < 200

    run(raw, io_manager, partition_key=DAY1)

    stored = read_back(raw, io_manager)
    assert len(stored) == 200
    assert sorted(stored["url"]) == sorted(frame["url"])


def test_429_storm_is_waited_out_with_backoff(io_manager, make_io_manager, rejecting_proxy):
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(50))})
    with rejecting_proxy(reject=4) as proxy:
        run(raw, make_io_manager(url=proxy.url), partition_key=DAY1)
    assert proxy.rejected == 4
    assert proxy.bulk_requests == 4 + 3 + 0  # 50 documents in chunks of 20, no stale deletes
    assert len(read_back(raw, io_manager)) == 50


def test_endless_429_storm_fails_naming_the_service_and_remedy(make_io_manager, rejecting_proxy):
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(5))})
    with (
        rejecting_proxy(reject=None) as proxy,
        pytest.raises(ElasticsearchStoreError, match=r"429 Too Many Requests.*max_retries"),
    ):
        run(raw, make_io_manager(url=proxy.url, max_retries=2), partition_key=DAY1)
    assert proxy.bulk_requests == 3


def test_unreachable_elasticsearch_names_the_service_and_remedy(make_io_manager):
    unreachable = make_io_manager(url=f"http://127.0.0.1:{free_port()}")
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(2))})
    with pytest.raises(ElasticsearchUnavailableError, match="ESWI_ELASTICSEARCH_URL") as failure:
        run(raw, unreachable, partition_key=DAY1)
    assert "Elasticsearch at http://127.0.0.1:" in str(failure.value)


def test_index_with_a_conflicting_mapping_is_refused_with_remedy(io_manager, es, index_prefix):
    es.indices.create(
        index=f"{index_prefix}raw_pages",
        mappings={"properties": {"partition_date": {"type": "keyword"}}},
    )
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(2))})
    with pytest.raises(MappingConflictError, match=r"'partition_date' is keyword .* date") as err:
        run(raw, io_manager, partition_key=DAY1)
    assert "_reindex" in str(err.value)
    assert es.count(index=f"{index_prefix}raw_pages")["count"] == 0


def test_columns_missing_from_the_template_are_refused_before_writing(io_manager, es, index_prefix):
    frame = raw_pages_frame(DAY1, paths(2)).assign(crawler_version="2")
    raw = partitioned("raw_pages", {DAY1: frame})
    with pytest.raises(MappingConflictError, match="crawler_version"):
        run(raw, io_manager, partition_key=DAY1)
    assert not es.indices.exists(index=f"{index_prefix}raw_pages")


def test_rows_outside_the_partitions_being_stored_are_refused(io_manager, es, index_prefix):
    frame = pd.concat([raw_pages_frame(DAY1, paths(2)), raw_pages_frame(DAY2, paths(1))])
    raw = partitioned("raw_pages", {DAY1: frame})
    with pytest.raises(ValueError, match=r"1 row\(s\) of raw_pages lie outside"):
        run(raw, io_manager, partition_key=DAY1)
    assert not es.indices.exists(index=f"{index_prefix}raw_pages")


def test_reads_close_their_point_in_time(io_manager, es):
    def open_contexts() -> int:
        stats = es.nodes.stats(metric="indices", index_metric="search")["nodes"]
        return sum(node["indices"]["search"]["open_contexts"] for node in stats.values())

    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(30))})
    before = open_contexts()
    run(raw, io_manager, partition_key=DAY1)
    assert len(read_back(raw, io_manager)) == 30  # 5 pages of 7
    assert open_contexts() == before


def test_missing_index_on_read_says_what_to_materialize(io_manager):
    raw = partitioned("raw_pages", {DAY1: raw_pages_frame(DAY1, paths(1))})
    with pytest.raises(ElasticsearchStoreError, match="materialize raw_pages first"):
        read_back(raw, io_manager)


def test_stored_fields_support_chinese_search_and_date_dashboards(io_manager, es, index_prefix):
    corpus = partitioned(
        "cleaned_corpus",
        {DAY1: corpus_frame(DAY1, ["a", "b"]), DAY2: corpus_frame(DAY2, ["c"], body="今天下雨")},
    )
    run(corpus, io_manager, tags=dict(zip(RANGE_TAGS, (DAY1, DAY2), strict=True)))
    index = f"{index_prefix}cleaned_corpus"

    hits = es.search(index=index, query={"match_phrase": {"body": "長輩散步"}})["hits"]["hits"]
    assert sorted(hit["_source"]["doc_id"] for hit in hits) == ["a", "b"]
    per_day = es.search(
        index=index,
        size=0,
        aggs={
            "days": {
                "date_histogram": {
                    "field": "partition_date",
                    "calendar_interval": "day",
                    "format": "yyyy-MM-dd",
                },
                "aggs": {"sources": {"terms": {"field": "source"}}},
            }
        },
    )["aggregations"]["days"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in per_day] == [(DAY1, 2), (DAY2, 1)]
    mapping = es.indices.get_mapping(index=index).body
    (properties,) = (found["mappings"]["properties"] for found in mapping.values())
    assert properties["title"]["analyzer"] == "cjk"
    assert properties["title"]["fields"]["keyword"]["type"] == "keyword"
    assert es.indices.get_alias(name=index)  # an alias, so a reindex can switch behind it


def test_io_manager_config_is_plain_dagster_config():
    cluster = ElasticsearchResource(url="http://127.0.0.1:9", api_key=None)
    manager = ElasticsearchIOManager(elasticsearch=cluster)
    assert manager.bulk_settings.max_retries == 5
    assert manager.elasticsearch.index_prefix == "eswi-"
