"""Model lifecycle: missing or corrupt models at start-up, reloads under load, LATEST polling."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from eswi_assets.stores.models import LocalModelStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.serving.conftest import ADMIN_KEY, serving_app
from eswi_assets_tests.serving.support import running, save_tiny_model

ADMIN = {"X-API-Key": ADMIN_KEY}
ONLY_PPO = {"candidate_share": 1.0}


def app_for(tmp_path: Path, store: LocalModelStore, **overrides):
    feedback = SqliteFeedbackStore(path=str(tmp_path / "feedback.sqlite"), salt="s")
    return serving_app(tmp_path, store, feedback, **overrides)


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_without_any_model_the_service_is_up_but_not_ready_and_says_why(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    with running(app_for(tmp_path, store), ready=False) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        wait_until(
            lambda: (
                httpx.get(f"{url}/readyz").json()["problems"]
                != {"candidate": "loading", "baseline": "loading"}
            )
        )
        readiness = httpx.get(f"{url}/readyz")
        assert readiness.status_code == 503
        assert "materialize" in readiness.json()["problems"]["candidate"]
        answer = httpx.post(f"{url}/v1/generate", json={"prompt": "標題", "user_id": "u"})
        assert answer.status_code == 503
        assert "ppo_model" in answer.json()["detail"] or "sft_model" in answer.json()["detail"]


def test_a_corrupt_model_directory_keeps_the_service_up_until_a_good_version_is_loaded(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    save_tiny_model(store, "ppo_model", "broken", seed=3)
    (tmp_path / "models" / "ppo_model" / "broken" / "config.json").write_text("{not json")
    with running(app_for(tmp_path, store, **ONLY_PPO), ready=False) as url:
        wait_until(lambda: "loading" not in httpx.get(f"{url}/readyz").json()["problems"].values())
        readiness = httpx.get(f"{url}/readyz")
        assert readiness.status_code == 503
        assert "cannot load ppo_model" in readiness.json()["problems"]["candidate"]
        generate = {"prompt": "標題", "user_id": "u"}
        assert httpx.post(f"{url}/v1/generate", json=generate).status_code == 503

        save_tiny_model(store, "ppo_model", "fixed", seed=3)
        reloaded = httpx.post(f"{url}/v1/admin/reload", headers=ADMIN, timeout=60).json()
        assert reloaded["ready"] is True
        assert httpx.get(f"{url}/readyz").status_code == 200
        answer = httpx.post(f"{url}/v1/generate", json=generate, timeout=60).json()
        assert answer["model_version"] == "ppo_model/fixed"


def test_a_reload_under_load_finishes_every_request_and_then_serves_the_new_version(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    save_tiny_model(store, "ppo_model", "old", seed=4)
    with running(app_for(tmp_path, store, **ONLY_PPO)) as url:
        save_tiny_model(store, "ppo_model", "new", seed=5)

        async def load_and_reload():
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                requests = [
                    client.post(
                        "/v1/generate",
                        json={"prompt": f"第{i}篇", "user_id": f"u{i}", "max_new_tokens": 32},
                    )
                    for i in range(32)
                ]
                reload = client.post("/v1/admin/reload", headers=ADMIN)
                return await asyncio.gather(*requests[:16], reload, *requests[16:])

        results = asyncio.run(load_and_reload())
        reload, answers = results[16], results[:16] + results[17:]
        assert reload.status_code == 200
        assert [a.status_code for a in answers] == [200] * 32
        assert {a.json()["model_version"] for a in answers} <= {"ppo_model/old", "ppo_model/new"}
        after = httpx.post(f"{url}/v1/generate", json={"prompt": "之後", "user_id": "later"})
        assert after.json()["model_version"] == "ppo_model/new"


def test_polling_latest_picks_up_a_newly_promoted_version(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    save_tiny_model(store, "ppo_model", "first", seed=6)
    with running(app_for(tmp_path, store, reload_poll_seconds=0.2, **ONLY_PPO)) as url:
        save_tiny_model(store, "ppo_model", "second", seed=7)

        def serving_second() -> bool:
            models = httpx.get(f"{url}/v1/models").json()["models"]
            return [m["model_version"] for m in models] == ["ppo_model/second"]

        wait_until(serving_second)


def test_a_pinned_baseline_version_is_served_instead_of_latest(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    save_tiny_model(store, "ppo_model", "previous", seed=8)
    save_tiny_model(store, "ppo_model", "current", seed=9)
    overrides = {"baseline_asset": "ppo_model", "baseline_version": "previous"}
    with running(app_for(tmp_path, store, **overrides)) as url:
        models = httpx.get(f"{url}/v1/models").json()["models"]
        assert {m["variant"]: m["model_version"] for m in models} == {
            "candidate": "ppo_model/current",
            "baseline": "ppo_model/previous",
        }


def test_without_a_line_channel_or_admin_key_those_endpoints_say_they_are_off(tmp_path):
    store = LocalModelStore(base_dir=str(tmp_path / "models"))
    app = app_for(tmp_path, store, admin_api_key=None)
    with running(app, ready=False) as url:
        webhook = httpx.post(
            f"{url}/line/webhook", content=b"{}", headers={"x-line-signature": "x"}
        )
        assert webhook.status_code == 503
        reload = httpx.post(f"{url}/v1/admin/reload", headers={"X-API-Key": ""})
        assert reload.status_code == 403
        assert "ESWI_SERVING_ADMIN_API_KEY" in reload.json()["detail"]
