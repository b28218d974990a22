"""Ratings belong to the user who was served: feedback tokens, API-client namespaces, the
reserved `line:` namespace, one stored rating under concurrency, per-user rate limits."""

from __future__ import annotations

import asyncio

import httpx

from eswi_assets.serving.line.postback import parse_postback
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.serving.conftest import SHOP_KEY, serving_app
from eswi_assets_tests.serving.support import running
from eswi_assets_tests.serving.test_line import USER, deliver, postback, text_message

SHOP = {"X-API-Key": SHOP_KEY}


def post(url: str, path: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=60, **kwargs)


def generate(url: str, user_id: str, **kwargs) -> dict:
    body = {"prompt": "所有權測試", "user_id": user_id, "temperature": 0, "max_new_tokens": 8}
    response = post(url, "/v1/generate", body, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def rows_of(live, generation_id: str):
    rows = live.feedback_store.read_all()
    return rows[rows["generation_id"] == generation_id]


def test_an_api_caller_cannot_overwrite_a_line_users_rating(live):
    """The measured attack: an API caller naming `line:<someone>` rated that user's answer."""
    message = text_message("週末去台南吃小吃")
    assert deliver(live, message).status_code == 200
    items = live.line.reply_to(message["replyToken"]).body["messages"][0]["quickReply"]["items"]
    [five] = [
        item["action"]["data"]
        for item in items
        if parse_postback(item["action"]["data"]).score == 5
    ]
    generation_id = parse_postback(five).generation_id
    press = postback(five)
    assert deliver(live, press).status_code == 200
    live.line.reply_to(press["replyToken"])
    assert rows_of(live, generation_id)[["rating", "channel"]].values.tolist() == [[5, "line"]]

    victim = f"line:{USER}"
    attack = {"generation_id": generation_id, "rating": 1}
    answers = [
        post(live.url, "/v1/feedback", attack | {"user_id": victim}),
        post(live.url, "/v1/feedback", attack | {"user_id": victim, "feedback_token": "x" * 43}),
        post(live.url, "/v1/feedback", attack | {"user_id": victim}, headers=SHOP),
        post(live.url, "/v1/feedback", attack | {"user_id": USER}, headers=SHOP),
        post(live.url, "/v1/feedback", attack | {"feedback_token": "x" * 43}),
    ]
    assert [a.status_code for a in answers] == [401, 403, 404, 404, 404]
    assert post(live.url, "/v1/generate", {"prompt": "冒充", "user_id": victim}).status_code == 403

    mine = rows_of(live, generation_id)
    assert mine[["rating", "channel"]].values.tolist() == [[5, "line"]]
    assert mine["user_hash"].tolist() == [live.feedback_store.hash_user(victim)]


def test_someone_elses_generation_is_404_exactly_like_an_unknown_one(live):
    answer = generate(live.url, "author")
    theirs = post(
        live.url,
        "/v1/feedback",
        {"generation_id": answer["generation_id"], "rating": 1, "feedback_token": "guess"},
    )
    unknown = post(
        live.url,
        "/v1/feedback",
        {"generation_id": "never-issued", "rating": 1, "feedback_token": "guess"},
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"].replace(answer["generation_id"], "ID") == unknown.json()[
        "detail"
    ].replace("never-issued", "ID")
    with_user = {"generation_id": answer["generation_id"], "rating": 1, "user_id": "friend"}
    wrong_user = post(
        live.url, "/v1/feedback", with_user | {"feedback_token": answer["feedback_token"]}
    )
    assert wrong_user.status_code == 404
    assert rows_of(live, answer["generation_id"]).empty


def test_an_api_client_rates_what_its_namespaced_user_was_served_without_a_token(live):
    answer = generate(live.url, "alice", headers=SHOP)
    body = {"generation_id": answer["generation_id"], "rating": 4}
    assert (
        post(live.url, "/v1/feedback", body | {"user_id": "bob"}, headers=SHOP).status_code == 404
    )
    assert post(live.url, "/v1/feedback", body | {"user_id": "alice"}).status_code == 401
    stored = post(live.url, "/v1/feedback", body | {"user_id": "alice"}, headers=SHOP)
    assert stored.status_code == 200 and stored.json()["changed"] is True
    assert rows_of(live, answer["generation_id"])["user_hash"].tolist() == [
        live.feedback_store.hash_user("shop:alice")
    ]
    # The bare id is another user: an anonymous "alice" is not the shop's alice.
    assert live.app.state.service.variant_for("shop:alice") == answer["variant"]
    wrong_key = {"X-API-Key": "not-a-key"}
    assert (
        post(live.url, "/v1/feedback", body | {"user_id": "alice"}, headers=wrong_key).status_code
        == 401
    )
    assert (
        post(live.url, "/v1/generate", {"prompt": "冒充", "user_id": "shop:alice"}).status_code
        == 403
    )


def test_of_many_concurrent_ratings_by_the_owner_the_last_acknowledged_is_stored(live):
    answer = generate(live.url, "concurrent-owner")
    values = [1 + n % 5 for n in range(20)]

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/feedback",
                        json={
                            "generation_id": answer["generation_id"],
                            "feedback_token": answer["feedback_token"],
                            "rating": value,
                        },
                    )
                    for value in values
                )
            )

    responses = asyncio.run(all_at_once())
    assert [r.status_code for r in responses] == [200] * len(values)
    last = max((r.json() for r in responses), key=lambda body: body["seq"])
    mine = rows_of(live, answer["generation_id"])
    assert len(mine) == 1
    assert (mine["rating"].iloc[0], mine["seq"].iloc[0]) == (last["rating"], last["seq"])


def test_per_user_rate_limits_answer_429_with_retry_after(tmp_path, model_store):
    feedback = SqliteFeedbackStore(path=str(tmp_path / "feedback.sqlite"), salt="test-salt")
    app = serving_app(
        tmp_path,
        model_store,
        feedback,
        generate_per_minute=1,
        generate_burst=2,
        feedback_per_minute=1,
        feedback_burst=1,
    )
    with running(app) as url:
        first, _ = generate(url, "greedy"), generate(url, "greedy")
        refused = post(url, "/v1/generate", {"prompt": "再一次", "user_id": "greedy"})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        generate(url, "patient")  # another user has a bucket of their own
        rating = {
            "generation_id": first["generation_id"],
            "feedback_token": first["feedback_token"],
        }
        assert post(url, "/v1/feedback", rating | {"rating": 3}).status_code == 200
        assert post(url, "/v1/feedback", rating | {"rating": 4}).status_code == 429
    assert feedback.read_all()["rating"].tolist() == [3]
