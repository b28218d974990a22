"""PPO: steer the SFT policy toward the target sentiment scored by the reward model (TRL PPO).

The policy and its frozen reference start from `sft_model`; the reward model and the value model
(a trainable copy) start from `reward_model`. Training prompts are the "ppo" split of the corpus,
which SFT never trained on; the "eval" split measures before and after, with the reward model
and with an independent judge PPO never saw.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from datasets import Dataset
from pydantic import Field
from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback, set_seed
from trl.experimental.ppo import PPOConfig, PPOTrainer

from eswi_assets.training.data import TrainingDataError, corpus_examples
from eswi_assets.training.device import Hardware, detect_hardware
from eswi_assets.training.generation import generate
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite
from eswi_assets.training.judge import judge
from eswi_assets.training.quality import kl_per_token, paired_bootstrap, sample_quality
from eswi_assets.training.reward import score
from eswi_assets.training.shaping import BudgetSpent, PpoBudget, ShapedReward


class PpoParams(dg.Config):
    """Launchpad-editable PPO hyperparameters; they map onto TRL's experimental `PPOConfig`."""

    episodes: int = Field(default=1024, ge=1, description="Prompts rolled out in total.")
    batch_size: int = Field(default=16, ge=2, description="Rollouts per PPO update.")
    mini_batches: int = Field(default=2, ge=1)
    ppo_epochs: int = Field(default=4, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0, description="High: the default is tiny.")
    response_length: int = Field(
        default=96, ge=8, description="New tokens per rollout; TRL's 53 cuts bodies short."
    )
    min_response_length: int = Field(
        default=32, ge=0, description="EOS is blocked before this many tokens (no empty replies)."
    )
    max_prompt_length: int = Field(default=64, ge=8, description="Prompt tokens kept (the end).")
    temperature: float = Field(default=0.7, gt=0)
    kl_coef: float = Field(default=0.05, ge=0)
    repetition_penalty: float = Field(
        default=4.0,
        ge=0,
        description="Subtracted from the reward x a rollout's repeated-bigram share (0: off).",
    )
    budget_kl_per_token: float = Field(
        default=0.25, gt=0, description="Training stops past this KL from SFT (nats/token)."
    )
    budget_entropy_ratio: float = Field(
        default=0.7, ge=0, lt=1, description="Training stops below this share of the entropy."
    )
    missing_eos_penalty: float | None = Field(default=None, ge=0)
    eval_prompts: int = Field(default=64, ge=1, description="Held-out prompts for before/after.")
    eval_samples: int = Field(default=4, ge=1, description="Responses per held-out prompt.")
    seed: int = 42
    min_judge_gain: float = Field(
        default=0.05, description="Check: least rise of the judge's target-sentiment rate."
    )
    min_judge_gain_low: float = Field(
        default=0.0, description="Check: the gain interval's lower bound must be above this."
    )
    max_kl_per_token: float = Field(default=0.5, gt=0, description="Check: KL limit, nats/token.")
    min_distinct_2_ratio: float = Field(default=0.8, ge=0, description="Check: vs SFT's.")
    max_repeated_4gram_ratio: float = Field(default=1.5, gt=0, description="Check: vs SFT's.")
    max_broken_share: float = Field(default=0.0, ge=0, description="Check: broken characters.")

    def trl_config(self, output_dir: Path, hardware: Hardware) -> PPOConfig:
        # PPO checkpoints are never resumed (TRL's PPO trainer has no resume), so none is saved.
        return PPOConfig(
            **{**hardware.shared_trainer_args(output_dir, self.seed, 1), "save_strategy": "no"},
            total_episodes=self.episodes,
            per_device_train_batch_size=self.batch_size,
            per_device_eval_batch_size=self.batch_size,
            local_rollout_forward_batch_size=self.batch_size,
            num_mini_batches=self.mini_batches,
            num_ppo_epochs=self.ppo_epochs,
            learning_rate=self.learning_rate,
            response_length=self.response_length,
            temperature=self.temperature,
            kl_coef=self.kl_coef,
            missing_eos_penalty=self.missing_eos_penalty,
            stop_token="eos",
            num_sample_generations=0,
            logging_steps=1,
        )


@dataclass
class PpoResult:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    metrics: dict[str, float]
    history: list[dict] = field(default_factory=list)
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    stop_reason: str = "all episodes run"


def prompt_dataset(
    prompts: Sequence[str], tokenizer: PreTrainedTokenizerBase, max_length: int
) -> Dataset:
    """Tokenized prompts, cut from the left so the "內文：" cue before the body survives."""
    ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    return Dataset.from_dict({"input_ids": [i[-max_length:] for i in ids]})


def rollouts(
    policy: PreTrainedModel,
    reward_model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    params: PpoParams,
    target: str,
) -> pd.DataFrame:
    """Sampled responses to `prompts`, scored by the reward model and by the independent judge."""
    cut = [
        tokenizer.decode(i)
        for i in prompt_dataset(prompts, tokenizer, params.max_prompt_length)["input_ids"]
    ]
    responses = generate(
        policy, tokenizer, cut, params.response_length, params.seed, params.temperature
    )
    return pd.DataFrame(
        {
            "prompt": prompts,
            "cut_prompt": cut,
            "response": responses,
            "reward": score(
                reward_model, tokenizer, [p + r for p, r in zip(cut, responses, strict=True)]
            ),
            "judge": judge(responses, target),
            "length": [len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in responses],
        }
    )


def last_logged(history: list[dict], key: str, n: int = 3) -> float:
    """Mean of the last `n` logged values of `key` (PPO logs once per update)."""
    values = [h[key] for h in history if key in h][-n:]
    return float(np.mean(values)) if values else float("nan")


def train_ppo(
    corpus: pd.DataFrame,
    policy: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    reward_model: PreTrainedModel,
    target: str,
    params: PpoParams,
    output_dir: Path,
    callbacks: Sequence[TrainerCallback] = (),
) -> PpoResult:
    examples = corpus_examples(corpus)
    train_prompts = examples.loc[examples["split"] == "ppo", "prompt"].tolist()
    eval_prompts = examples.loc[examples["split"] == "eval", "prompt"].head(params.eval_prompts)
    if len(train_prompts) < params.batch_size:
        raise TrainingDataError(
            f"cleaned_corpus gives {len(train_prompts)} PPO prompts, fewer than one batch "
            f"({params.batch_size}); lower batch_size or crawl more documents"
        )
    if len(eval_prompts) < 8:
        raise TrainingDataError(
            f"cleaned_corpus gives {len(eval_prompts)} held-out prompts; the judge needs at "
            "least 8 for an interval: crawl more documents"
        )
    set_seed(params.seed)
    reference = copy.deepcopy(policy)
    # Stopping at once is the cheapest way to dodge both a low score and the KL penalty, and a
    # tiny policy finds it within a few updates; a minimum length keeps PPO on the content.
    # TRL's rollouts and `generate` both merge this from the model's generation config.
    policy.generation_config.min_new_tokens = params.min_response_length
    evaluation = [p for p in eval_prompts for _ in range(params.eval_samples)]
    before = rollouts(policy, reward_model, tokenizer, evaluation, params, target)
    budget = PpoBudget(
        params.budget_kl_per_token, params.budget_entropy_ratio, params.response_length
    )
    trainer = PPOTrainer(
        args=params.trl_config(output_dir, detect_hardware()),
        processing_class=tokenizer,
        model=policy,
        ref_model=copy.deepcopy(reference),
        reward_model=ShapedReward(reward_model, params.repetition_penalty),
        value_model=copy.deepcopy(reward_model),
        train_dataset=prompt_dataset(train_prompts, tokenizer, params.max_prompt_length),
        eval_dataset=prompt_dataset(eval_prompts, tokenizer, params.max_prompt_length),
        callbacks=[StopOnNonFiniteLoss("ppo_model"), budget, *callbacks],
    )
    with contextlib.suppress(BudgetSpent):
        trainer.train()
    model = trainer.policy_model
    after = rollouts(model, reward_model, tokenizer, evaluation, params, target)
    # The minimum length is a rollout rule, not part of the model: served with it, the A/B test
    # would compare decoding settings instead of models.
    model.generation_config.min_new_tokens = reference.generation_config.min_new_tokens
    history = trainer.state.log_history
    gain, low, high = paired_bootstrap(
        before["judge"], after["judge"], before["prompt"], seed=params.seed
    )
    metrics = {
        "judge_gain": gain,
        "judge_gain_low": low,
        "judge_gain_high": high,
        "kl_per_token": kl_per_token(
            model, reference, tokenizer, after["cut_prompt"].tolist(), after["response"].tolist()
        ),
        **sample_quality(before["response"].tolist(), prefix="sft_"),
        **sample_quality(after["response"].tolist(), prefix="ppo_"),
        "reward_before": float(before["reward"].mean()),
        "reward_after": float(after["reward"].mean()),
        "judge_before": float(before["judge"].mean()),
        "judge_after": float(after["judge"].mean()),
        "win_rate_reward": float((after["reward"] > before["reward"]).mean()),
        "win_rate_judge": float((after["judge"] > before["judge"]).mean()),
        "kl_per_response": last_logged(history, "objective/kl"),
        "entropy": last_logged(history, "objective/entropy"),
        "response_length_before": float(before["length"].mean()),
        "response_length_after": float(after["length"].mean()),
        "train_prompts": float(len(train_prompts)),
        "eval_prompts": float(len(eval_prompts)),
        "updates": float(trainer.state.global_step),
        "stopped_by_budget": float(bool(budget.reason)),
    }
    require_finite(
        {k: v for k, v in metrics.items() if k != "kl_per_response"}, "ppo_model evaluation"
    )
    samples = pd.DataFrame(
        {
            "prompt": before["prompt"],
            "sft_response": before["response"],
            "ppo_response": after["response"],
            "sft_reward": before["reward"],
            "ppo_reward": after["reward"],
            "sft_judge": before["judge"],
            "ppo_judge": after["judge"],
        }
    )
    reason = f"budget spent: {budget.reason}" if budget.reason else "all episodes run"
    return PpoResult(model, tokenizer, metrics, history, samples, reason)
