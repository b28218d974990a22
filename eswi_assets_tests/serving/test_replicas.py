"""Two replicas of the app (two real uvicorn servers) on one real Elasticsearch node, as in
production: any replica takes a rating for an answer another served, a LINE redelivery is
recognised whichever replica it reaches, and concurrent ratings through both store the last."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import httpx
import pytest
from elasticsearch import Elasticsearch

from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets_tests.serving.conftest import LINE_SECRET, LINE_TOKEN, serving_app
from eswi_assets_tests.serving.support import REPLY, FakeLine, fake_line_api, running
from eswi_assets_tests.serving.test_line import deliver, text_message
from eswi_assets_tests.stores import drop_prefixed


@dataclass
class Replicas:
    a: str
    b: str
    store: ElasticsearchFeedbackStore
    services: list
    line: FakeLine


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, model_store, es_url) -> Iterator[Replicas]:
    prefix = f"test-{uuid.uuid4().hex[:10]}-"

    def store() -> ElasticsearchFeedbackStore:
        return ElasticsearchFeedbackStore(
            ElasticsearchConnection(es_url, index_prefix=prefix), salt="test-salt"
        )

    line_settings = {"line_channel_secret": LINE_SECRET, "line_channel_access_token": LINE_TOKEN}
    with fake_line_api() as line:
        apps = [
            serving_app(
                tmp_path_factory.mktemp(f"replica-{name}"),
                model_store,
                store(),
                line_api_base_url=line.url,
                **line_settings,
            )
            for name in "ab"
        ]
        with running(apps[0]) as a, running(apps[1]) as b:
            yield Replicas(a, b, store(), [app.state.service for app in apps], line)
    with Elasticsearch(es_url, request_timeout=60) as es:
        drop_prefixed(es, prefix)


def generate(url: str, user_id: str) -> dict:
    body = {"prompt": "兩個副本", "user_id": user_id, "temperature": 0, "max_new_tokens": 8}
    response = httpx.post(f"{url}/v1/generate", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def rate(url: str, answer: dict, rating: int) -> httpx.Response:
    body = {
        "generation_id": answer["generation_id"],
        "feedback_token": answer["feedback_token"],
        "rating": rating,
    }
    return httpx.post(f"{url}/v1/feedback", json=body, timeout=60)


def test_an_answer_served_by_one_replica_is_rated_on_the_other(replicas):
    answer = generate(replicas.a, "across")
    first = rate(replicas.b, answer, 2)
    assert first.status_code == 200 and first.json()["changed"] is True
    again = rate(replicas.a, answer, 5)
    assert again.status_code == 200
    rows = replicas.store.read_all()
    [row] = rows[rows["generation_id"] == answer["generation_id"]].to_dict("records")
    assert (row["rating"], row["seq"], row["first_seq"]) == (
        5,
        again.json()["seq"],
        first.json()["seq"],
    )
    assert row["model_version"] == answer["model_version"] and row["response"] == answer["text"]


def test_a_webhook_event_is_first_delivered_once_across_replicas(replicas):
    event_id = uuid.uuid4().hex
    a, b = (service.records for service in replicas.services)
    assert a.first_delivery(event_id) is True
    assert b.first_delivery(event_id) is False

    message = text_message("重送到另一個副本")
    assert deliver(SimpleNamespace(url=replicas.a), message).status_code == 200
    replicas.line.reply_to(message["replyToken"])
    redelivery = message | {"deliveryContext": {"isRedelivery": True}}
    marker = text_message("之後的訊息")
    assert deliver(SimpleNamespace(url=replicas.b), redelivery, marker).status_code == 200
    replicas.line.reply_to(marker["replyToken"])
    assert len(replicas.line.to(REPLY, replyToken=message["replyToken"])) == 1


def test_concurrent_ratings_through_both_replicas_store_the_last_acknowledged(replicas):
    answer = generate(replicas.b, "racing-owner")
    values = [1 + n % 5 for n in range(16)]

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"{(replicas.a, replicas.b)[n % 2]}/v1/feedback",
                        json={
                            "generation_id": answer["generation_id"],
                            "feedback_token": answer["feedback_token"],
                            "rating": value,
                        },
                    )
                    for n, value in enumerate(values)
                )
            )

    responses = asyncio.run(all_at_once())
    assert [r.status_code for r in responses] == [200] * len(values)
    last = max((r.json() for r in responses), key=lambda body: body["seq"])
    rows = replicas.store.read_all()
    mine = rows[rows["generation_id"] == answer["generation_id"]]
    assert len(mine) == 1
    assert (mine["rating"].iloc[0], mine["seq"].iloc[0]) == (last["rating"], last["seq"])
    assert mine["first_seq"].iloc[0] == min(r.json()["seq"] for r in responses)
