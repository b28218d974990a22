"""One set of tiny models per session, and one live service (with a fake LINE API) per module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from fastapi import FastAPI

from eswi_assets.serving.app import create_app
from eswi_assets.serving.settings import ServingSettings
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.models import LocalModelStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.serving.support import FakeLine, fake_line_api, running, save_tiny_model

torch.set_num_threads(1)

LINE_SECRET = "test-channel-secret"
LINE_TOKEN = "test-access-token"
ADMIN_KEY = "test-admin-key"
SHOP_KEY = "test-shop-client-key"
API_KEYS = json.dumps({SHOP_KEY: "shop"})


@pytest.fixture(scope="session")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> LocalModelStore:
    store = LocalModelStore(base_dir=str(tmp_path_factory.mktemp("models")))
    save_tiny_model(store, "sft_model", "sft-run-1", seed=1)
    save_tiny_model(store, "ppo_model", "ppo-run-1", seed=2)
    return store


@dataclass
class LiveService:
    url: str
    app: FastAPI
    feedback_store: SqliteFeedbackStore
    line: FakeLine


def serving_app(
    data_dir: Path, model_store: LocalModelStore, feedback: FeedbackStore, **overrides
) -> FastAPI:
    serving = ServingSettings(
        **{
            "max_batch_size": 16,
            "max_wait_ms": 50,
            "reload_poll_seconds": 0,
            "admin_api_key": ADMIN_KEY,
            "experiment_salt": "test-experiment-salt",
            "api_keys": API_KEYS,
            **overrides,
        }
    )
    return create_app(Settings(data_dir=data_dir), serving, stores=(model_store, feedback))


@pytest.fixture(scope="module")
def live(tmp_path_factory, model_store) -> Iterator[LiveService]:
    data_dir = tmp_path_factory.mktemp("serving")
    feedback = SqliteFeedbackStore(path=str(data_dir / "feedback.sqlite"), salt="test-salt")
    with fake_line_api() as line:
        app = serving_app(
            data_dir,
            model_store,
            feedback,
            line_channel_secret=LINE_SECRET,
            line_channel_access_token=LINE_TOKEN,
            line_api_base_url=line.url,
        )
        with running(app) as url:
            yield LiveService(url, app, feedback, line)
