"""DataFrame <-> document conversion, without a cluster: ids, duplicates, dtypes."""

from __future__ import annotations

import pandas as pd
import pytest

from eswi_assets.stores.elasticsearch.frames import to_documents, to_frame
from eswi_assets.stores.elasticsearch.index import (
    IndexTemplate,
    MappingConflictError,
    check_columns,
)
from eswi_assets_tests.elasticsearch.standins import labels_frame, raw_pages_frame


@pytest.fixture(scope="module")
def raw_template() -> IndexTemplate:
    return IndexTemplate.load("raw_pages")


def test_document_ids_are_stable_across_runs_and_distinct_across_partitions(raw_template):
    day1 = to_documents(raw_pages_frame("2026-11-01", ["a", "b"]), raw_template, "raw_pages")
    again = to_documents(raw_pages_frame("2026-11-01", ["a", "b"]), raw_template, "raw_pages")
    day2 = to_documents(raw_pages_frame("2026-11-02", ["a"]), raw_template, "raw_pages")
    assert [doc.id for doc in day1] == [doc.id for doc in again]
    assert day2[0].id not in {doc.id for doc in day1}


def test_rows_repeating_their_identifying_fields_are_refused(raw_template):
    frame = raw_pages_frame("2026-11-01", ["a", "b", "a"])
    with pytest.raises(
        ValueError, match=r"1 row\(s\) of raw_pages repeat .*url=http://127.0.0.1:8765/a"
    ):
        to_documents(frame, raw_template, "raw_pages")


def test_documents_hold_json_values_with_nulls_as_none(raw_template):
    failed = to_documents(raw_pages_frame("2026-11-01", ["a", "b"]), raw_template, "raw_pages")[1]
    assert failed.source["http_status"] is None
    assert failed.source["partition_date"] == "2026-11-01T00:00:00.000000"
    assert failed.source["fetched_at"] == "2026-11-01T01:02:03.000001"


def test_round_trip_keeps_values_and_nullable_integer_dtypes(raw_template):
    frame = raw_pages_frame("2026-11-01", ["a", "b", "c"])
    docs = to_documents(frame, raw_template, "raw_pages")
    back = to_frame([doc.source for doc in docs], raw_template)
    pd.testing.assert_frame_equal(back, frame)
    complete = to_frame([docs[0].source], raw_template)
    assert complete["http_status"].dtype == "int64"  # as DuckDB returns a column without nulls


def test_empty_read_has_the_template_columns_and_dtypes():
    template = IndexTemplate.load("labeled_sentiment")
    empty = to_frame([], template)
    assert list(empty.columns) == list(labels_frame(["s"]).columns)
    assert empty["labeled_at"].dtype == "datetime64[ns]"
    assert empty["n_annotations"].dtype == "int64"


def test_unknown_columns_name_the_template_to_change(raw_template):
    with pytest.raises(MappingConflictError, match=r"\['extra'\].*raw_pages.json"):
        check_columns(["url", "extra"], raw_template)


def test_every_asset_template_is_kibana_ready():
    """Dates as date, ids as keyword, Chinese text through cjk; strict, one shard, an alias."""
    for name, dates in {
        "raw_pages": {"partition_date", "fetched_at"},
        "cleaned_corpus": {"partition_date"},
        "labeled_sentiment": {"labeled_at"},
        "user_feedback": {"created_at", "served_at"},
    }.items():
        template = IndexTemplate.load(name)
        kinds = {field: spec["type"] for field, spec in template.properties.items()}
        assert {field for field, kind in kinds.items() if kind == "date"} == dates
        assert all(kinds[field] in {"keyword", "date"} for field in template.id_fields)
        assert all(
            spec.get("analyzer") == "cjk"
            for field, spec in template.properties.items()
            if spec["type"] == "text" and spec.get("index", True) and field != "error"
        )
        assert template.body["template"]["mappings"]["dynamic"] == "strict"
        assert template.body_for("x-")["index_patterns"] == [f"x-{name}-*"]


def test_missing_timestamps_are_stored_as_null_and_come_back_missing(raw_template):
    frame = raw_pages_frame("2026-11-01", ["a", "b"])
    frame.loc[1, "fetched_at"] = pd.NaT
    docs = to_documents(frame, raw_template, "raw_pages")
    assert [doc.source["fetched_at"] for doc in docs] == ["2026-11-01T01:02:03.000000", None]
    back = to_frame([doc.source for doc in docs], raw_template)
    pd.testing.assert_frame_equal(back, frame)
