"""Supervised fine-tuning: a causal LM learns to expand title + summary into the body (TRL SFT)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback, set_seed
from trl import SFTConfig, SFTTrainer

from eswi_assets.training.checkpoints import last_checkpoint
from eswi_assets.training.data import SAMPLE_PROMPTS, corpus_examples
from eswi_assets.training.generation import generate
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite
from eswi_assets.training.pretrain import tokenizer_matches
from eswi_assets.training.quality import (
    CharNgramBaseline,
    completion_cross_entropy_per_char,
    sample_quality,
)
from eswi_assets.training.result import TrainingResult
from eswi_assets.training.tokenizer import missing_characters, unknown_share


def sft_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: SFTConfig,
    train: pd.DataFrame,
    held_out: pd.DataFrame,
    callbacks: Sequence[TrainerCallback] = (),
) -> SFTTrainer:
    """The SFT trainer the pipeline runs (and the benchmark times): prompt/completion pairs,
    loss on the completion only, stopped on a non-finite loss."""
    columns = ["prompt", "completion"]
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_pandas(train[columns], preserve_index=False),
        eval_dataset=Dataset.from_pandas(held_out[columns], preserve_index=False),
        processing_class=tokenizer,
        callbacks=[StopOnNonFiniteLoss("sft_model"), *callbacks],
    )


def train_sft(
    corpus: pd.DataFrame,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: SFTConfig,
    sample_new_tokens: int,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainingResult:
    """Fine-tune `model` (from base_model) on the "sft" split and measure it on the held-out
    "eval" split; resumes a checkpoint in `args.output_dir` if one is there (a retried step)."""
    tokenizer_matches(model, tokenizer)
    examples = corpus_examples(corpus)
    train = examples[examples["split"] == "sft"]
    held_out = examples[examples["split"] == "eval"]
    set_seed(args.seed)
    # Characters the base never saw (its shipped text lacks some of the corpus's) join the
    # vocabulary, their embeddings starting at the mean, so the model can learn to write them.
    added = missing_characters(tokenizer, train["prompt"] + train["completion"], min_count=2)
    if added:
        tokenizer.add_tokens(added)
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)
    trainer = sft_trainer(model, tokenizer, args, train, held_out, callbacks)
    trainer.train(resume_from_checkpoint=last_checkpoint(Path(args.output_dir)))
    metrics = trainer.evaluate()
    require_finite(metrics, "sft_model evaluation")
    model = trainer.model
    baseline = CharNgramBaseline(train["completion"])
    eval_ce = completion_cross_entropy_per_char(
        model, tokenizer, held_out["prompt"].tolist(), held_out["completion"].tolist(),
        args.max_length,
    )  # fmt: skip
    samples = pd.DataFrame({"prompt": SAMPLE_PROMPTS + held_out["prompt"].head(8).tolist()})
    samples["completion"] = generate(
        model, tokenizer, samples["prompt"].tolist(), sample_new_tokens, seed=args.seed
    )
    return TrainingResult(
        model=model,
        tokenizer=tokenizer,
        metrics={
            "eval_loss": metrics["eval_loss"],
            "eval_ce_per_char": eval_ce,
            "perplexity_per_char": math.exp(min(eval_ce, 50.0)),
            "unigram_ce_per_char": baseline.cross_entropy(held_out["completion"], order=1),
            "bigram_ce_per_char": baseline.cross_entropy(held_out["completion"], order=2),
            **sample_quality(samples["completion"].tolist(), prefix="sample_"),
            "eval_unknown_share": unknown_share(tokenizer, held_out["completion"]),
            "train_documents": float(len(train)),
            "eval_documents": float(len(held_out)),
            "train_tokens": float(sum(len(ids) for ids in trainer.train_dataset["input_ids"])),
            "optimizer_steps": float(trainer.state.global_step),
            "save_steps": float(trainer.state.save_steps),
            "vocab_size": float(len(tokenizer)),
            "added_characters": float(len(added)),
            "parameters": float(model.num_parameters()),
        },
        history=trainer.state.log_history,
        examples=samples,
    )
