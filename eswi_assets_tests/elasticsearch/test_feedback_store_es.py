"""The feedback store on Elasticsearch keeps the SQLite store's promises: idempotent by
feedback_id, a seq cursor that never skips or repeats, hashed users, observation stats.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from eswi_assets.resources.elasticsearch_index import ElasticsearchUnavailableError
from eswi_assets.resources.es_node import free_port
from eswi_assets.resources.feedback_store import Feedback
from eswi_assets.resources.feedback_store_es import ElasticsearchFeedbackStore

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def feedback(n: int, rating: int = 4, user: str = "U123") -> Feedback:
    return Feedback(
        feedback_id=f"f{n}",
        generation_id=f"g{n}",
        model_version="ppo_model/run-1",
        prompt="社區長照",
        response="志工很熱心。",
        rating=rating,
        user_id=user,
        channel="line",
        created_at=T0 + timedelta(minutes=n),
    )


@pytest.fixture
def store(es_url: str, index_prefix: str) -> ElasticsearchFeedbackStore:
    return ElasticsearchFeedbackStore(url=es_url, index_prefix=index_prefix, salt="pepper")


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


def test_user_ids_are_stored_only_as_salted_hashes(store, es, index_prefix):
    store.upsert([feedback(1, user="U-secret-id")])
    hits = es.search(index=f"{index_prefix}user_feedback")["hits"]["hits"]
    assert "U-secret-id" not in json.dumps(hits)
    assert hits[0]["_source"]["user_hash"] == store.hash_user("U-secret-id")


def test_stats_report_count_newest_time_and_max_seq(store):
    assert store.stats().count == 0
    assert store.stats().newest_created_at is None
    store.upsert([feedback(3), feedback(1)])
    stats = store.stats()
    assert stats.count == 2
    assert stats.newest_created_at == T0 + timedelta(minutes=3)
    assert stats.max_seq == 2


def test_times_come_back_as_naive_utc(store, es, index_prefix):
    taipei = timezone(timedelta(hours=8))
    store.upsert([Feedback(**{**feedback(1).model_dump(), "created_at": T0.astimezone(taipei)})])
    assert store.read_all()["created_at"].tolist() == [datetime(2026, 11, 2, 8, 0)]
    stored = es.search(index=f"{index_prefix}user_feedback")["hits"]["hits"][0]["_source"]
    assert stored["created_at"] == "2026-11-02T08:00:00.000000+00:00"


def test_unreachable_store_names_the_service_and_remedy():
    store = ElasticsearchFeedbackStore(url=f"http://127.0.0.1:{free_port()}", salt="pepper")
    with pytest.raises(ElasticsearchUnavailableError, match="ESWI_ELASTICSEARCH_URL"):
        store.upsert([feedback(1)])
