"""Supervised fine-tuning: a causal LM learns to expand title + summary into the body (TRL SFT)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pandas as pd
from datasets import Dataset
from pydantic import Field
from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback, set_seed
from trl import SFTConfig, SFTTrainer

from eswi_assets.training.base import TinyModelParams, base_model
from eswi_assets.training.checkpoints import last_checkpoint
from eswi_assets.training.data import SAMPLE_PROMPTS, corpus_examples
from eswi_assets.training.device import Hardware, detect_hardware
from eswi_assets.training.generation import generate
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite


class SftParams(dg.Config):
    """Launchpad-editable SFT hyperparameters; they map one to one onto TRL's `SFTConfig`."""

    epochs: float = Field(default=10.0, gt=0)
    batch_size: int = Field(default=8, ge=1)
    learning_rate: float = Field(default=3e-3, gt=0, description="High: the default is tiny.")
    warmup_ratio: float = Field(default=0.05, ge=0, lt=1)
    max_length: int = Field(default=256, ge=16, description="Prompt + body tokens per example.")
    save_steps: int = Field(default=200, ge=1, description="Checkpoint every N optimizer steps.")
    seed: int = 42
    sample_new_tokens: int = Field(default=64, ge=1)
    model: TinyModelParams = Field(default_factory=TinyModelParams)

    def trl_config(self, output_dir: Path, hardware: Hardware) -> SFTConfig:
        return SFTConfig(
            **hardware.shared_trainer_args(output_dir, self.seed, self.save_steps),
            num_train_epochs=self.epochs,
            per_device_train_batch_size=self.batch_size,
            per_device_eval_batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            warmup_steps=self.warmup_ratio,
            max_length=self.max_length,
            data_seed=self.seed,
            eval_strategy="epoch",
            logging_strategy="steps",
            logging_steps=5,
            dataloader_num_workers=0,
        )


@dataclass
class TrainingResult:
    """What a training step hands back: the model, its tokenizer and what to report about it."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    metrics: dict[str, float]
    history: list[dict] = field(default_factory=list)
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)


def train_sft(
    corpus: pd.DataFrame,
    params: SftParams,
    output_dir: Path,
    base: str | None = None,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainingResult:
    """Train on the "sft" split, evaluate on the held-out "eval" split; resumes a checkpoint in
    `output_dir` if one is there (a retried step)."""
    examples = corpus_examples(corpus)
    train = examples[examples["split"] == "sft"]
    held_out = examples[examples["split"] == "eval"]
    set_seed(params.seed)
    model, tokenizer = base_model(
        base, (examples["prompt"] + examples["completion"]).tolist(), params.model
    )
    hardware = detect_hardware()
    trainer = SFTTrainer(
        model=model,
        args=params.trl_config(output_dir, hardware),
        train_dataset=Dataset.from_pandas(train[["prompt", "completion"]], preserve_index=False),
        eval_dataset=Dataset.from_pandas(held_out[["prompt", "completion"]], preserve_index=False),
        processing_class=tokenizer,
        callbacks=[StopOnNonFiniteLoss("sft_model"), *callbacks],
    )
    trainer.train(resume_from_checkpoint=last_checkpoint(output_dir))
    metrics = trainer.evaluate()
    require_finite(metrics, "sft_model evaluation")
    samples = pd.DataFrame({"prompt": SAMPLE_PROMPTS})
    samples["completion"] = generate(
        model, tokenizer, SAMPLE_PROMPTS, params.sample_new_tokens, seed=params.seed
    )
    return TrainingResult(
        model=trainer.model,
        tokenizer=tokenizer,
        metrics={
            "eval_loss": metrics["eval_loss"],
            "perplexity": math.exp(min(metrics["eval_loss"], 50.0)),
            "train_documents": float(len(train)),
            "eval_documents": float(len(held_out)),
            "train_tokens": float(sum(len(ids) for ids in trainer.train_dataset["input_ids"])),
            "train_completion_tokens": float(
                sum(sum(t != -100 for t in labels) for labels in trainer.train_dataset["labels"])
            ),
            "vocab_size": float(len(tokenizer)),
            "parameters": float(model.num_parameters()),
        },
        history=trainer.state.log_history,
        samples=samples,
    )
