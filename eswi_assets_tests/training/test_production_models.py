"""The model half in the production profile: inputs read from a real Elasticsearch, ratings from
the Elasticsearch feedback store, models written to S3 (moto server), all wired by profiles.py."""

import uuid
from collections.abc import Iterator

import dagster as dg
import pandas as pd
import pytest
from elasticsearch import Elasticsearch
from moto.server import ThreadedMotoServer

from eswi_assets.definitions import build_definitions
from eswi_assets.labeling.seed import seed_labels
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Profile, Settings
from eswi_assets.stores import build as build_stores
from eswi_assets_tests.stores import drop_prefixed
from eswi_assets_tests.training.conftest import rated_responses, review_corpus

pytestmark = pytest.mark.slow

BUCKET = "eswi-models-test"
TINY = {
    "ops": {
        "base_model": {"config": {"preset": "test"}},
        "sft_model": {"config": {"epochs": 1, "seed": 0, "min_gain_over_bigram": -10.0}},
        "reward_model": {"config": {"epochs": 1, "max_label_pairs": 64, "seed": 0}},
    }
}


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def settings(es_url: str, moto_endpoint: str, monkeypatch, tmp_path) -> Iterator[Settings]:
    monkeypatch.setenv("ESWI_FEEDBACK_SALT", "pepper")
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    yield Settings(
        profile=Profile.PRODUCTION,
        labeling="seed",
        data_dir=tmp_path,
        elasticsearch_url=es_url,
        es_index_prefix=prefix,
        s3_bucket=BUCKET,
        s3_endpoint_url=moto_endpoint,
    )
    with Elasticsearch(es_url, request_timeout=60) as es:
        drop_prefixed(es, prefix)


def test_models_train_from_elasticsearch_inputs_and_land_in_s3(settings: Settings):
    resources = build_resources(settings)
    resources["model_store"].s3.get_client().create_bucket(Bucket=BUCKET)
    serving = build_stores(settings)  # what the serving app holds: the same index and salt
    ratings = serving.feedback
    ratings.upsert(rated_responses())
    corpus = review_corpus(60).assign(cjk_share=1.0, pii_redactions=0)
    io_manager = resources["io_manager"]
    defs = build_definitions(settings)
    days = defs.get_assets_def("cleaned_corpus").partitions_def

    @dg.asset(
        name="cleaned_corpus", partitions_def=days, metadata={"partition_expr": "partition_date"}
    )
    def stand_in_corpus(context) -> pd.DataFrame:
        return corpus[corpus["partition_date"] == pd.Timestamp(context.partition_key)]

    @dg.asset(name="labeled_sentiment")
    def stand_in_labels() -> pd.DataFrame:
        return seed_labels(200)

    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        assert dg.materialize(
            [stand_in_corpus], partition_key=day, resources={"io_manager": io_manager}
        ).success
    assert dg.materialize([stand_in_labels], resources={"io_manager": io_manager}).success

    trained = ["base_model", "sft_model", "reward_model"]
    models = [defs.get_assets_def(key) for key in trained]
    result = dg.materialize(
        [stand_in_corpus, stand_in_labels, *models],
        selection=trained,
        resources=resources,
        run_config=TINY,
        raise_on_error=False,  # one epoch is not meant to pass the reward model's probe check
    )

    events = result.get_asset_materialization_events()
    assert [e.asset_key.to_user_string() for e in events] == trained
    sft_metadata = result.asset_materializations_for_node("sft_model")[0].metadata
    assert 0 < sft_metadata["train_documents"].value < 60
    reward_metadata = result.asset_materializations_for_node("reward_model")[0].metadata
    assert reward_metadata["path"].value.startswith(f"s3://{BUCKET}/models/reward_model/")
    assert reward_metadata["user_ratings_pairs"].value == 3  # one user's 5, 3 and 1
    stored = serving.models.load_latest("sft_model")
    assert stored.version == result.run_id
    model, tokenizer = stored.load()
    assert model.config.vocab_size >= len(tokenizer)
