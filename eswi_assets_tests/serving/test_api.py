"""The HTTP API against a live uvicorn: generate, rate, limits, batching, metrics."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator

import dagster as dg
import httpx
import pytest

from eswi_assets.assets.ratings import build_rating_assets
from eswi_assets.evaluation.ratings import rating_table
from eswi_assets.serving.schemas import MAX_PROMPT_CHARS
from eswi_assets.settings import Settings
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.serving.conftest import LINE_SECRET, LINE_TOKEN, serving_app
from eswi_assets_tests.serving.support import logged_errors, metric, running, sign, texts


def generate(url: str, prompt: str, user_id: str, **params) -> httpx.Response:
    body = {"prompt": prompt, "user_id": user_id, "temperature": 0, "max_new_tokens": 12}
    return httpx.post(f"{url}/v1/generate", json=body | params, timeout=60)


def rate(url: str, answer: dict, rating: int, **extra) -> httpx.Response:
    """Rates a /v1/generate answer as the user it was served to: with its feedback token."""
    body = {
        "generation_id": answer["generation_id"],
        "feedback_token": answer["feedback_token"],
        "rating": rating,
    }
    return httpx.post(f"{url}/v1/feedback", json=body | extra, timeout=60)


def test_a_generated_text_rated_over_http_is_stored_with_its_prompt_and_model(live):
    answer = generate(live.url, "飯店住宿心得", "reader-1", summary="房間與早餐")
    assert answer.status_code == 200
    body = answer.json()
    assert body["variant"] in {"candidate", "baseline"}
    expected_asset = "ppo_model" if body["variant"] == "candidate" else "sft_model"
    assert body["model_version"].startswith(f"{expected_asset}/")

    stored = rate(live.url, body, 4, comment="還不錯")
    assert stored.status_code == 200
    assert stored.json()["changed"] is True

    rows = live.feedback_store.read_all()
    row = rows[rows["generation_id"] == body["generation_id"]].iloc[0]
    assert (row["kind"], row["rating"], row["seq"]) == ("rating", 4, stored.json()["seq"])
    assert row["model_version"] == body["model_version"]
    assert row["response"] == body["text"]
    assert row["prompt"] == "標題：飯店住宿心得\n摘要：房間與早餐\n內文：\n"
    assert row["channel"] == "api"
    assert row["user_hash"] == live.feedback_store.hash_user("reader-1") != "reader-1"


def test_same_rating_sent_twice_concurrently_is_stored_once_and_a_new_rating_replaces_it(live):
    answer = generate(live.url, "新書閱讀筆記", "twice").json()
    generation_id = answer["generation_id"]

    async def send_both() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            body = {"generation_id": generation_id, "rating": 2}
            body["feedback_token"] = answer["feedback_token"]
            return await asyncio.gather(*(client.post("/v1/feedback", json=body) for _ in "ab"))

    first, second = asyncio.run(send_both())
    assert first.status_code == second.status_code == 200
    assert first.json()["feedback_id"] == second.json()["feedback_id"]
    assert sorted([first.json()["changed"], second.json()["changed"]]) == [False, True]

    rows = live.feedback_store.read_all()
    assert (rows["generation_id"] == generation_id).sum() == 1

    assert rate(live.url, answer, 5).json()["changed"] is True
    rows = live.feedback_store.read_all()
    mine = rows[rows["generation_id"] == generation_id]
    assert mine["rating"].tolist() == [5]


def test_rating_an_unknown_generation_is_404_and_stores_nothing(live):
    before = len(live.feedback_store.read_all())
    unknown = {"generation_id": "no-such-generation", "feedback_token": "guess"}
    response = rate(live.url, unknown, 5)
    assert response.status_code == 404
    assert len(live.feedback_store.read_all()) == before


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "x" * (MAX_PROMPT_CHARS + 1)},
        {"prompt": ""},
        {"max_new_tokens": 10_000},
        {"temperature": -1},
        {"top_p": 0},
        {"user_id": ""},
        {"unexpected": 1},
    ],
)
def test_generate_requests_outside_the_schema_limits_are_422(live, body):
    base = {"prompt": "標題", "user_id": "limits"}
    assert httpx.post(f"{live.url}/v1/generate", json=base | body).status_code == 422


def test_a_prompt_longer_than_the_model_can_attend_to_is_422_with_the_reason(live):
    response = generate(live.url, "長" * 100, "limits", summary="很長的摘要" * 150)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "prompt"]
    assert "positions" in error["msg"]


@pytest.mark.parametrize("rating", [0, 6, "five"])
def test_ratings_outside_1_to_5_are_422(live, rating):
    answer = generate(live.url, "評分範圍", "range").json()
    assert rate(live.url, answer, rating).status_code == 422


def chunked(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """Sent without Content-Length (Transfer-Encoding: chunked)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_bodies_over_their_limit_are_413_with_or_without_content_length_and_log_no_error(
    tmp_path, model_store
):
    feedback = SqliteFeedbackStore(path=str(tmp_path / "feedback.sqlite"), salt="test-salt")
    app = serving_app(
        tmp_path,
        model_store,
        feedback,
        line_channel_secret=LINE_SECRET,
        line_channel_access_token=LINE_TOKEN,
        line_api_base_url="http://127.0.0.1:9",
        line_max_body_bytes=65_536,
    )
    api_body = b'{"prompt": "' + b"x" * 20_000 + b'", "user_id": "u"}'
    webhook_body = b'{"destination": "U", "events": [], "pad": "' + b"x" * 70_000 + b'"}'
    with logged_errors() as errors, running(app, ready=False) as url:
        for path, body in [("/v1/generate", api_body), ("/line/webhook", webhook_body)]:
            headers = {
                "content-type": "application/json",
                "x-line-signature": sign(LINE_SECRET, body),
            }
            for content in (body, chunked(body)):
                response = httpx.post(f"{url}{path}", content=content, headers=headers)
                assert response.status_code == 413, path
    # uvicorn has shut down, so whatever the refused requests raised has been logged
    assert [record.getMessage() for record in errors] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/generate", '{"prompt": "標題\\ud800", "user_id": "u"}'),
        ("/v1/feedback", '{"generation_id": "g", "rating": 5, "user_id": "\\ud83d"}'),
        (
            "/v1/feedback",
            '{"generation_id": "g", "rating": 5, "user_id": "u", "comment": "\\udc00"}',
        ),
    ],
)
def test_lone_surrogates_get_an_encodable_422_on_a_connection_that_stays_open(live, path, body):
    host, port = httpx.URL(live.url).host, httpx.URL(live.url).port
    connection = http.client.HTTPConnection(host, port, timeout=60)
    with logged_errors() as errors:
        connection.request("POST", path, body.encode(), {"content-type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        assert response.status == 422
        [error] = json.loads(payload.decode("utf-8"))["detail"]
        assert "\ufffd" in error["input"]  # echoed, with the lone surrogate replaced
        kept = connection.sock
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() == b'{"status":"ok"}'
        assert connection.sock is kept, "the server closed the connection after the 422"
    connection.close()
    assert errors == []


def test_concurrent_requests_are_batched_and_every_answer_reaches_its_own_caller(live):
    """Greedy decoding gives each prompt one answer whatever else is in its batch, so each
    concurrent answer must equal the answer its prompt gets alone; crossed answers would not."""
    prompts = [text[: 6 + i % 5] for i, text in enumerate(texts()[:192:3])]
    users = [f"batch-user-{i}" for i in range(64)]
    alone = [generate(live.url, p, u).json()["text"] for p, u in zip(prompts, users, strict=True)]
    assert len(set(alone)) > 48, "the test model must answer different prompts differently"

    before = httpx.get(f"{live.url}/metrics").text

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.url, timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/generate",
                        json={"prompt": p, "user_id": u, "temperature": 0, "max_new_tokens": 12},
                    )
                    for p, u in zip(prompts, users, strict=True)
                )
            )

    together = asyncio.run(all_at_once())
    after = httpx.get(f"{live.url}/metrics").text

    assert [r.status_code for r in together] == [200] * 64
    assert [r.json()["text"] for r in together] == alone
    assert len({r.json()["generation_id"] for r in together}) == 64
    calls = metric(after, "eswi_generate_batch_size_count") - metric(
        before, "eswi_generate_batch_size_count"
    )
    served = metric(after, "eswi_generate_batch_size_sum") - metric(
        before, "eswi_generate_batch_size_sum"
    )
    assert served == 64
    assert calls < 64, "64 concurrent requests took 64 model calls: nothing was batched"


def test_metrics_show_queue_batches_tokens_and_ratings_by_variant(live):
    answer = generate(live.url, "指標", "metrics-user").json()
    rate(live.url, answer, 5)
    text = httpx.get(f"{live.url}/metrics").text
    assert "eswi_generate_queue_depth 0.0" in text
    assert metric(text, "eswi_generate_batch_size_count") >= 1
    assert metric(text, "eswi_generated_tokens_total", variant=answer["variant"]) > 0
    assert metric(text, "eswi_ratings_total", variant=answer["variant"], rating="5") >= 1
    assert metric(text, "eswi_model_info", variant=answer["variant"]) == 1
    assert metric(text, "http_requests_total", handler="/v1/generate") >= 1


def test_models_lists_each_variant_with_its_version_and_share(live):
    body = httpx.get(f"{live.url}/v1/models").json()
    assert body["ready"] is True
    assert {(m["variant"], m["model_version"], m["share"]) for m in body["models"]} == {
        ("candidate", "ppo_model/ppo-run-1", 0.5),
        ("baseline", "sft_model/sft-run-1", 0.5),
    }


def test_admin_reload_needs_the_api_key(live):
    assert httpx.post(f"{live.url}/v1/admin/reload").status_code == 401
    wrong = {"X-API-Key": "guess"}
    assert httpx.post(f"{live.url}/v1/admin/reload", headers=wrong).status_code == 401
    right = {"X-API-Key": "test-admin-key"}
    assert httpx.post(f"{live.url}/v1/admin/reload", headers=right, timeout=60).status_code == 200


def test_health_and_openapi_are_served(live):
    assert httpx.get(f"{live.url}/healthz").json() == {"status": "ok"}
    schema = httpx.get(f"{live.url}/openapi.json").json()
    prompt = schema["components"]["schemas"]["GenerateRequest"]["properties"]["prompt"]
    assert prompt["maxLength"] == MAX_PROMPT_CHARS


def test_ratings_given_over_http_reach_the_rating_table(live):
    rated = {}
    for i in range(6):
        answer = generate(live.url, f"往返測試{i}", f"round-trip-{i}").json()
        rate(live.url, answer, 5 if i % 2 else 3)
        rated[answer["generation_id"]] = answer["model_version"]

    feedback = live.feedback_store.read_all()
    mine = feedback[feedback["generation_id"].isin(rated)]
    table = rating_table(feedback, min_ratings=1, n_boot=200)
    for version, group in mine.groupby("model_version"):
        summary = table.set_index("model_version").loc[version]
        everything = feedback[feedback["model_version"] == version]
        assert summary["n_ratings"] == len(everything) >= len(group)
        assert summary["mean_rating"] == everything["rating"].mean()

    [asset] = build_rating_assets(Settings())
    result = dg.materialize(
        [asset],
        resources={"feedback_store": live.feedback_store, "io_manager": dg.mem_io_manager},
        run_config={"ops": {"rating_table": {"config": {"bootstrap_samples": 200}}}},
    )
    materialized = result.output_for_node("rating_table")
    assert set(materialized["model_version"]) >= set(rated.values())
    assert materialized["n_ratings"].sum() == len(feedback)
