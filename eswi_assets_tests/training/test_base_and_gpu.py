"""Base models (tiny GPT-2 or a configured path) and the GPU scheduling tags of the assets."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster_k8s.job import get_user_defined_k8s_config
from transformers import BertTokenizerFast, GPT2Config, GPT2LMHeadModel

from eswi_assets.assets.models import build_model_assets
from eswi_assets.settings import Settings
from eswi_assets.training.base import BaseModelError, ModelShape, base_model
from eswi_assets_tests.training.conftest import review_corpus

TEXTS = ["社區長照據點今天開幕，長輩們很開心。", "志工熱心服務，大家都很滿意。"] * 20


def test_character_tokenizer_round_trips_every_character_of_the_corpus():
    corpus = review_corpus(200)
    texts = (corpus["title"] + "\n" + corpus["summary"] + " " + corpus["body"]).tolist()
    texts.append("ABC-1234 ｘｙ 123，mixed ASCII\tand\nwhitespace！")
    _, tokenizer = base_model(None, texts, ModelShape(vocab_size=8000))
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(ids) == len(text), "one token per character"
        assert tokenizer.decode(ids) == text
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert tokenizer.padding_side == "left"


def test_character_tokenizer_marks_unseen_characters_and_never_splits_one():
    _, tokenizer = base_model(None, TEXTS, ModelShape(vocab_size=300))
    ids = tokenizer("龘社區", add_special_tokens=False)["input_ids"]
    assert ids[0] == tokenizer.unk_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "社區"
    every_single_token = [tokenizer.decode([i]) for i in range(len(tokenizer))]
    assert not any("\ufffd" in t for t in every_single_token)


def test_missing_base_model_directory_is_named_in_the_error(tmp_path: Path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(BaseModelError, match=str(missing)):
        base_model(str(missing), TEXTS, ModelShape())


def test_local_base_model_with_a_bert_tokenizer_gets_eos_and_a_separate_pad(tmp_path: Path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"社區長照志工"]))
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    tokenizer.save_pretrained(tmp_path)
    GPT2LMHeadModel(
        GPT2Config(vocab_size=len(tokenizer), n_layer=1, n_embd=16, n_head=2)
    ).save_pretrained(tmp_path)
    model, loaded = base_model(str(tmp_path), [], ModelShape())
    assert loaded.eos_token == "[SEP]"
    assert loaded.pad_token_id != loaded.eos_token_id
    assert model.config.pad_token_id == loaded.pad_token_id
    assert model.get_input_embeddings().num_embeddings >= len(loaded)


def test_training_assets_ask_for_one_gpu_on_the_configured_nodes_in_one_pool():
    settings = Settings(
        gpu_pool="a100",
        gpu_node_selector={"pool": "gpu-a100"},
        gpu_tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    trained = [a for a in build_model_assets(settings) if hasattr(a, "op")]
    expected = {"base_model", "sft_model", "reward_model", "ppo_model"}
    assert {a.key.to_user_string() for a in trained} == expected
    for asset in trained:
        k8s = get_user_defined_k8s_config(asset.op.tags)
        wanted = {"nvidia.com/gpu": "1", "cpu": settings.training_cpu, "memory": "32Gi"}
        assert k8s.container_config["resources"]["limits"] == wanted
        assert k8s.container_config["resources"]["requests"] == wanted
        assert k8s.pod_spec_config["node_selector"] == {"pool": "gpu-a100"}
        assert k8s.pod_spec_config["tolerations"][0]["key"] == "gpu"
        assert asset.op.pool == "a100"
        assert asset.group_names_by_key[asset.key] == "models"
