"""The model store: versions per run, a LATEST pointer, checkpoints, on disk and on S3 (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import torch
from dagster_aws.s3 import S3Resource
from moto.server import ThreadedMotoServer
from transformers import TrainerControl, TrainerState, TrainingArguments

from eswi_assets.resources.model_store import LocalModelStoreResource
from eswi_assets.stores.models import (
    LATEST,
    LocalModelStore,
    ModelArtifact,
    ModelNotFoundError,
    ModelStore,
    ModelStoreError,
    S3ModelStore,
    StoredModel,
)
from eswi_assets.training.base import ModelShape, tiny_gpt2, train_tokenizer
from eswi_assets.training.reward import reward_model_from

TEXTS = ["社區長照據點今天開幕，長輩們很開心。", "志工熱心服務，大家都很滿意。"] * 20
BUCKET = "eswi-models"


def artifact(seed: int = 0, promote: bool = True) -> ModelArtifact:
    torch.manual_seed(seed)
    tokenizer = train_tokenizer(TEXTS, 300)
    model = tiny_gpt2(tokenizer, ModelShape(n_positions=64, n_embd=16, n_layer=1))
    return ModelArtifact(model, tokenizer, "# card\n", {"eval_loss": 1.5}, promote=promote)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Resource]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    resource = S3Resource(
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    resource.get_client().create_bucket(Bucket=BUCKET)
    yield resource
    server.stop()


def s3_store(s3: S3Resource, **options) -> S3ModelStore:
    return S3ModelStore(s3.get_client(), endpoint_url=s3.endpoint_url, **options)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path) -> ModelStore:
    if request.param == "local":
        return LocalModelStore(base_dir=str(tmp_path / "models"))
    s3 = request.getfixturevalue("s3")
    return s3_store(s3, bucket=BUCKET, prefix=f"t/{tmp_path.name}", cache_dir=str(tmp_path))


def test_saved_version_reloads_with_from_pretrained_and_generates(store: ModelStore):
    saved = artifact()
    store.save("sft_model", "run-1", saved)
    loaded = store.load_latest("sft_model")
    assert loaded.version == "run-1"
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= {
        p.name for p in loaded.local_dir.iterdir()
    }
    model, tokenizer = loaded.load()
    assert torch.equal(model.transformer.wte.weight, saved.model.transformer.wte.weight.detach())
    prompt = tokenizer("社區", return_tensors="pt")
    out = model.generate(**prompt, max_new_tokens=5, do_sample=False, pad_token_id=1)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    assert loaded.info["metrics"] == {"eval_loss": 1.5}


def test_reward_model_reloads_as_a_sequence_classifier(store: ModelStore):
    saved = artifact()
    store.save(
        "reward_model",
        "run-1",
        ModelArtifact(reward_model_from(saved.model), saved.tokenizer, "# rm", {}),
    )
    model, _ = store.load_latest("reward_model").load()
    assert type(model).__name__ == "GPT2ForSequenceClassification"
    assert model.config.num_labels == 1


def test_latest_moves_only_for_promoted_versions(store: ModelStore):
    store.save("ppo_model", "run-1", artifact(seed=1))
    store.save("ppo_model", "run-2", artifact(seed=2, promote=False))
    assert store.latest_version("ppo_model") == "run-1"
    assert store.fetch("ppo_model", "run-2").version == "run-2"
    store.save("ppo_model", "run-3", artifact(seed=3))
    assert store.load_latest("ppo_model").version == "run-3"


def test_loading_an_asset_never_saved_names_it(store: ModelStore):
    with pytest.raises(ModelNotFoundError, match="materialize ppo_model"):
        store.load_latest("ppo_model")


def test_latest_pointer_is_a_small_json_file_beside_the_versions(tmp_path: Path):
    store = LocalModelStore(base_dir=str(tmp_path))
    store.save("sft_model", "run-1", artifact())
    pointer = json.loads((tmp_path / "sft_model" / LATEST).read_text())
    assert pointer["version"] == "run-1"
    assert Path(pointer["uri"]) == (tmp_path / "sft_model" / "run-1").resolve()


def fake_checkpoint(store: ModelStore, step: int) -> Path:
    """What a trainer does: write checkpoint-N into output_dir, then call on_save."""
    output_dir = store.checkpoint_dir("sft_model", "run-1")
    (output_dir / f"checkpoint-{step}").mkdir(parents=True)
    (output_dir / f"checkpoint-{step}" / "trainer_state.json").write_text(f'{{"step": {step}}}')
    args = TrainingArguments(output_dir=str(output_dir), report_to="none")
    for callback in store.checkpoint_callbacks("sft_model", "run-1"):
        callback.on_save(args, TrainerState(global_step=step), TrainerControl())
    return output_dir


def test_checkpoints_survive_a_lost_worker_and_go_once_the_model_is_saved(s3, tmp_path: Path):
    first = s3_store(s3, bucket=BUCKET, prefix="ckpt", cache_dir=str(tmp_path / "pod-1"))
    fake_checkpoint(first, 10)
    retry = s3_store(s3, bucket=BUCKET, prefix="ckpt", cache_dir=str(tmp_path / "pod-2"))
    restored = retry.checkpoint_dir("sft_model", "run-1")
    assert (restored / "checkpoint-10" / "trainer_state.json").read_text() == '{"step": 10}'
    retry.save("sft_model", "run-1", artifact())
    keys = s3.get_client().list_objects_v2(Bucket=BUCKET, Prefix="ckpt/")["Contents"]
    assert not [k["Key"] for k in keys if "/checkpoints/" in k["Key"]]


def test_local_checkpoints_live_in_the_run_directory_until_the_save(tmp_path: Path):
    store = LocalModelStore(base_dir=str(tmp_path))
    output_dir = fake_checkpoint(store, 5)
    assert output_dir == tmp_path / "sft_model" / "run-1" / "checkpoints"
    store.save("sft_model", "run-1", artifact())
    assert not output_dir.exists()


def test_io_manager_saves_per_run_records_the_path_and_feeds_downstream(tmp_path: Path):
    @dg.asset(io_manager_key="model_store")
    def sft_model() -> ModelArtifact:
        return artifact()

    seen = {}

    @dg.asset
    def consumer(sft_model: StoredModel) -> None:
        seen["version"] = sft_model.version

    store = LocalModelStore(base_dir=str(tmp_path))
    resource = LocalModelStoreResource(base_dir=str(tmp_path))
    result = dg.materialize([sft_model, consumer], resources={"model_store": resource})
    metadata = result.asset_materializations_for_node("sft_model")[0].metadata
    assert metadata["path"].value == str((tmp_path / "sft_model" / result.run_id).resolve())
    assert metadata["promoted_to_latest"].value is True
    assert seen["version"] == result.run_id == store.latest_version("sft_model")


def test_a_reexecuted_run_resumes_from_and_then_clears_the_first_attempts_checkpoints(
    tmp_path: Path,
):
    store = LocalModelStore(base_dir=str(tmp_path))
    first_attempt = fake_checkpoint(store, 7)
    assert store.checkpoint_dir("sft_model", "run-1") == first_attempt
    resumed = artifact()
    resumed.checkpoint_key = "run-1"
    store.save("sft_model", "run-2", resumed)
    assert store.latest_version("sft_model") == "run-2"
    assert not first_attempt.exists()


def test_a_missing_bucket_is_named_with_the_remedy_and_nothing_is_promoted(s3, tmp_path: Path):
    store = s3_store(s3, bucket="no-such-bucket", cache_dir=str(tmp_path))
    with pytest.raises(ModelStoreError, match=r"bucket 'no-such-bucket' does not exist.*create it"):
        store.save("sft_model", "run-1", artifact())
    with pytest.raises(ModelStoreError, match="no-such-bucket"):
        store.latest_version("sft_model")


def test_an_unreachable_endpoint_is_named(tmp_path: Path):
    s3 = S3Resource(
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_attempts=1,
    )
    store = s3_store(s3, bucket=BUCKET, cache_dir=str(tmp_path))
    with pytest.raises(ModelStoreError, match=r"unreachable.*ESWI_S3_ENDPOINT_URL"):
        store.latest_version("sft_model")
