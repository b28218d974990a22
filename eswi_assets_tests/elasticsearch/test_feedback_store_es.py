"""What only the Elasticsearch feedback store shows: hashed users and UTC times in the stored
documents, and an unreachable node named (the shared promises: test_feedback_store_contract)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.elasticsearch.index import ElasticsearchUnavailableError
from eswi_assets.stores.feedback import Feedback
from eswi_assets_tests.es_node import free_port
from eswi_assets_tests.stores import T0, feedback


@pytest.fixture
def store(es_url: str, index_prefix: str) -> ElasticsearchFeedbackStore:
    connection = ElasticsearchConnection(es_url, index_prefix=index_prefix)
    return ElasticsearchFeedbackStore(connection, salt="pepper")


def test_user_ids_are_stored_only_as_salted_hashes(store, es, index_prefix):
    store.upsert([feedback(1, user="U-secret-id")])
    es.indices.refresh(index=f"{index_prefix}user_feedback")
    hits = es.search(index=f"{index_prefix}user_feedback")["hits"]["hits"]
    assert "U-secret-id" not in json.dumps(hits)
    assert hits[0]["_source"]["user_hash"] == store.hash_user("U-secret-id")


def test_times_come_back_as_naive_utc(store, es, index_prefix):
    taipei = timezone(timedelta(hours=8))
    store.upsert([Feedback(**{**feedback(1).model_dump(), "created_at": T0.astimezone(taipei)})])
    assert store.read_all()["created_at"].tolist() == [datetime(2026, 11, 2, 8, 0)]
    stored = es.search(index=f"{index_prefix}user_feedback")["hits"]["hits"][0]["_source"]
    assert stored["created_at"] == "2026-11-02T08:00:00.000000+00:00"


def test_unreachable_store_names_the_service_and_remedy():
    down = ElasticsearchConnection(f"http://127.0.0.1:{free_port()}")
    store = ElasticsearchFeedbackStore(down, salt="pepper")
    with pytest.raises(ElasticsearchUnavailableError, match="ESWI_ELASTICSEARCH_URL"):
        store.upsert([feedback(1)])


def test_the_store_keeps_one_client_for_every_call_and_closes_it(es_url, index_prefix):
    """Serving calls the store on every generation and rating: no new client per call."""
    made = []

    class Counting(ElasticsearchConnection):
        def new_client(self, request_timeout: float = 30):
            made.append(super().new_client(request_timeout))
            return made[-1]

    store = ElasticsearchFeedbackStore(Counting(es_url, index_prefix=index_prefix), salt="p")
    store.upsert([feedback(1)])
    store.upsert([feedback(1, rating=2)])
    assert len(store.read_all()) == 1 and store.stats().count == 1
    assert len(made) == 1
    store.close()
    store.upsert([feedback(2)])
    assert len(made) == 2  # a closed store opens a new client when used again
    store.close()
