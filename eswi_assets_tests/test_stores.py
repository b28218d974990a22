"""`stores.build` (the serving app's stores) and `profiles.build_resources` (Dagster's) choose the
same backend, the same place and the same secrets in every profile, and in production the IO
manager and the feedback store share one Elasticsearch connection."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from eswi_assets.profiles import build_resources
from eswi_assets.settings import Profile, Settings
from eswi_assets.stores import build
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.models import LocalModelStore, S3ModelStore
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore

STORE_KEYS = ("io_manager", "model_store", "feedback_store")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESWI_FEEDBACK_SALT", "pepper")
    monkeypatch.setenv("ESWI_ELASTICSEARCH_API_KEY", "key-1")


def dagster_stores(settings: Settings):
    resources = build_resources(settings)
    return dg.build_resources({key: resources[key] for key in STORE_KEYS})


def test_local_profile_uses_the_same_files_for_serving_and_dagster(secrets, tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    plain = build(settings)
    with dagster_stores(settings) as dagster:
        assert isinstance(plain.models, LocalModelStore)
        assert isinstance(dagster.model_store, LocalModelStore)
        assert dagster.model_store.base_dir == plain.models.base_dir == str(tmp_path / "models")
        assert type(dagster.feedback_store) is type(plain.feedback) is SqliteFeedbackStore
        assert dagster.feedback_store.path == plain.feedback.path
        assert dagster.feedback_store.hash_user("U1") == plain.feedback.hash_user("U1")


def test_production_uses_the_same_bucket_index_and_salt_for_serving_and_dagster(
    secrets, tmp_path: Path
):
    settings = Settings(
        profile=Profile.PRODUCTION,
        data_dir=tmp_path,
        s3_endpoint_url="http://127.0.0.1:9",
        es_index_prefix="shop-",
    )
    plain = build(settings)
    with dagster_stores(settings) as dagster:
        models = dagster.model_store
        assert isinstance(plain.models, S3ModelStore) and isinstance(models, S3ModelStore)
        assert (models.bucket, models.prefix, models.endpoint_url) == (
            plain.models.bucket,
            plain.models.prefix,
            "http://127.0.0.1:9",
        )
        feedback = dagster.feedback_store
        assert type(feedback) is type(plain.feedback) is ElasticsearchFeedbackStore
        assert feedback.connection == plain.feedback.connection
        assert feedback.connection.api_key == "key-1"
        assert feedback.hash_user("U1") == plain.feedback.hash_user("U1")
        assert dagster.io_manager.elasticsearch.connection() == feedback.connection


def test_production_feedback_store_refuses_to_hash_without_a_salt(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ESWI_FEEDBACK_SALT", raising=False)
    plain = build(Settings(profile=Profile.PRODUCTION, data_dir=tmp_path))
    with pytest.raises(ValueError, match="ESWI_FEEDBACK_SALT"):
        plain.feedback.hash_user("U1")
