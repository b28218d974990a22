"""What every feedback store promises, checked on each backend (SQLite, and a real Elasticsearch):
idempotent by feedback_id, a seq cursor that never skips or repeats, observation stats, UTC times.
Backend-specific behaviour is tested beside each backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.feedback import Feedback, FeedbackStore, SqliteFeedbackStore
from eswi_assets_tests.stores import T0, drop_prefixed, feedback


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeedbackStore]:
    if request.param == "sqlite":
        yield SqliteFeedbackStore(path=str(tmp_path / "fb.sqlite"), salt="pepper")
        return
    es_url = request.getfixturevalue("es_url")
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    yield ElasticsearchFeedbackStore(ElasticsearchConnection(es_url, index_prefix=prefix), "pepper")
    with Elasticsearch(es_url, request_timeout=60) as es:
        drop_prefixed(es, prefix)


def test_resending_the_same_feedback_does_not_duplicate_or_move_it(store):
    assert store.upsert([feedback(1), feedback(2)]) == 2
    assert store.upsert([feedback(1)]) == 0
    rows = store.read_all()
    assert list(rows["feedback_id"]) == ["f1", "f2"]
    assert list(rows["seq"]) == [1, 2]


def test_changed_rating_replaces_row_and_moves_it_past_the_cursor(store):
    store.upsert([feedback(1, rating=2), feedback(2)])
    cursor = store.read_after(0).cursor
    assert store.upsert([feedback(1, rating=5)]) == 1
    batch = store.read_after(cursor)
    assert list(batch.rows["feedback_id"]) == ["f1"]
    assert batch.rows["rating"].tolist() == [5]
    assert len(store.read_all()) == 2
    assert store.read_after(batch.cursor).rows.empty


def test_read_after_pages_through_rows_without_gaps_or_repeats(store):
    store.upsert([feedback(n) for n in range(7)])
    seen, cursor = [], 0
    while len((batch := store.read_after(cursor, limit=3)).rows):
        seen += batch.rows["feedback_id"].tolist()
        cursor = batch.cursor
    assert seen == [f"f{n}" for n in range(7)]
    assert store.read_after(cursor).cursor == cursor


def test_stats_report_count_newest_time_and_max_seq(store):
    assert store.stats().count == 0
    assert store.stats().newest_created_at is None
    store.upsert([feedback(3), feedback(1)])
    stats = store.stats()
    assert stats.count == 2
    assert stats.newest_created_at == T0 + timedelta(minutes=3)
    assert stats.max_seq == 2


def test_times_are_converted_to_utc_and_come_back_naive(store):
    taipei = timezone(timedelta(hours=8))
    store.upsert([feedback(1).model_copy(update={"created_at": datetime(2026, 11, 2, 16, 0)})])
    aware = datetime(2026, 11, 2, 16, 0, tzinfo=taipei)
    store.upsert([Feedback(**{**feedback(2).model_dump(), "created_at": aware})])
    assert store.read_all()["created_at"].tolist() == [
        datetime(2026, 11, 2, 16, 0),
        datetime(2026, 11, 2, 8, 0),
    ]
