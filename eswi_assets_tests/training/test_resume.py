"""A training step that fails part-way resumes from its last checkpoint, not from step zero.

The step is failed for real (an exception from inside the trainer's loop after some optimizer
steps), and the second call with the same output directory, as a re-execution from failure
gets, must start at the checkpoint's `global_step`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import TrainerCallback

from eswi_assets.training.base import TinyModelParams, tiny_gpt2, train_tokenizer
from eswi_assets.training.data import corpus_examples
from eswi_assets.training.sft import SftParams, save_every, train_sft
from eswi_assets_tests.training.conftest import review_corpus

pytestmark = pytest.mark.slow


class StepFailure(RuntimeError):
    pass


class FailAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise StepFailure(f"killed at step {state.global_step}")


class FirstStep(TrainerCallback):
    """Records the global step of the first optimizer step this run takes."""

    def __init__(self) -> None:
        self.first: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.first is None:
            self.first = state.global_step


def test_checkpoints_follow_the_number_of_optimizer_steps():
    assert save_every(examples=70, batch_size=8, epochs=10) == 23  # 90 steps, 4 checkpoints
    assert save_every(examples=3, batch_size=8, epochs=1) == 1


def test_sft_failed_part_way_resumes_from_the_saved_global_step(tmp_path: Path):
    corpus = review_corpus(60)
    texts = (corpus["title"] + corpus["body"]).tolist()
    tokenizer = train_tokenizer(texts, vocab_size=2000)
    params = SftParams(epochs=4, batch_size=8, max_length=96, sample_new_tokens=4)
    train_docs = (corpus_examples(corpus)["split"] == "sft").sum()
    every = save_every(int(train_docs), params.batch_size, params.epochs)
    shape = TinyModelParams(n_layer=1, n_embd=16, n_head=2, n_positions=128)

    with pytest.raises(StepFailure):
        train_sft(
            corpus, params, tmp_path, tiny_gpt2(tokenizer, shape), tokenizer, [FailAt(every + 1)]
        )
    assert (tmp_path / f"checkpoint-{every}").is_dir()

    first = FirstStep()
    result = train_sft(corpus, params, tmp_path, tiny_gpt2(tokenizer, shape), tokenizer, [first])
    assert first.first == every + 1, "training restarted instead of resuming"
    assert result.metrics["optimizer_steps"] > every
