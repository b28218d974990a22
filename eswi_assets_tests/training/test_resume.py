"""A training step that fails part-way resumes from its last checkpoint, not from step zero.

The step is failed for real (an exception from inside the trainer's loop after some optimizer
steps), and the second call with the same output directory, as a re-execution from failure
gets, must start at the checkpoint's `global_step`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from transformers import TrainerCallback

from eswi_assets.assets.models.params import SftParams
from eswi_assets.training.base import ModelShape, tiny_gpt2, train_tokenizer
from eswi_assets.training.checkpoints import CHECKPOINTS_PER_RUN
from eswi_assets.training.data import corpus_examples
from eswi_assets.training.sft import train_sft
from eswi_assets_tests.training.conftest import review_corpus

pytestmark = pytest.mark.slow


class StepFailure(RuntimeError):
    pass


class FailAfterFirstCheckpoint(TrainerCallback):
    """Kills the run one optimizer step after its first checkpoint, remembering that step."""

    def __init__(self) -> None:
        self.saved_at: int | None = None

    def on_save(self, args, state, control, **kwargs):
        self.saved_at = self.saved_at or state.global_step

    def on_step_end(self, args, state, control, **kwargs):
        if self.saved_at is not None and state.global_step == self.saved_at + 1:
            raise StepFailure(f"killed at step {state.global_step}")


class FirstStep(TrainerCallback):
    """Records the global step of the first optimizer step this run takes."""

    def __init__(self) -> None:
        self.first: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.first is None:
            self.first = state.global_step


def test_sft_failed_part_way_resumes_from_the_saved_global_step(tmp_path: Path):
    corpus = review_corpus(60)
    texts = (corpus["title"] + corpus["body"]).tolist()
    tokenizer = train_tokenizer(texts, vocab_size=2000)
    params = SftParams(epochs=4, batch_size=8, max_length=96, sample_new_tokens=4)
    args = params.trl_config(tmp_path)
    train_docs = int((corpus_examples(corpus)["split"] == "sft").sum())
    steps = math.ceil(train_docs / params.batch_size) * params.epochs
    shape = ModelShape(n_layer=1, n_embd=16, n_head=2, n_positions=128)

    failing = FailAfterFirstCheckpoint()
    with pytest.raises(StepFailure):
        train_sft(corpus, tiny_gpt2(tokenizer, shape), tokenizer, args, 4, [failing])
    every = failing.saved_at
    assert every == math.ceil(steps / CHECKPOINTS_PER_RUN), "checkpoints not spread over the run"
    assert (tmp_path / f"checkpoint-{every}").is_dir()

    first = FirstStep()
    result = train_sft(corpus, tiny_gpt2(tokenizer, shape), tokenizer, args, 4, [first])
    assert first.first == every + 1, "training restarted instead of resuming"
    assert result.metrics["optimizer_steps"] == steps
