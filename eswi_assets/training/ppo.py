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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback, set_seed
from trl.experimental.ppo import PPOConfig, PPOTrainer

from eswi_assets.training.data import TrainingDataError, corpus_examples
from eswi_assets.training.generation import generate
from eswi_assets.training.guards import StopOnNonFiniteLoss, require_finite
from eswi_assets.training.judge import judge
from eswi_assets.training.quality import kl_per_token, paired_bootstrap, sample_quality
from eswi_assets.training.result import TrainingResult
from eswi_assets.training.reward import score
from eswi_assets.training.shaping import BudgetSpent, PpoBudget, ShapedReward


@dataclass(frozen=True)
class PpoOptions:
    """What a PPO step needs beyond TRL's `PPOConfig`: the rollout rules, the shaping of the
    reward, the budget that stops training early, and the before/after evaluation's size."""

    min_response_length: int  # EOS is blocked before this many tokens (no empty replies)
    max_prompt_length: int  # prompt tokens kept (the end)
    repetition_penalty: float  # subtracted x a rollout's repeated-bigram share (0: off)
    budget_kl_per_token: float  # training stops past this KL from SFT (nats/token)
    budget_entropy_ratio: float  # training stops below this share of the entropy
    eval_prompts: int  # held-out prompts for before/after
    eval_samples: int  # responses per held-out prompt


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
    args: PPOConfig,
    options: PpoOptions,
    target: str,
) -> pd.DataFrame:
    """Sampled responses to `prompts`, scored by the reward model and by the independent judge."""
    cut = [
        tokenizer.decode(i)
        for i in prompt_dataset(prompts, tokenizer, options.max_prompt_length)["input_ids"]
    ]
    responses = generate(policy, tokenizer, cut, args.response_length, args.seed, args.temperature)
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


def ppo_trainer(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    reward_model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: PPOConfig,
    options: PpoOptions,
    prompts: Sequence[str],
    eval_prompts: Sequence[str],
    callbacks: Sequence[TrainerCallback] = (),
) -> PPOTrainer:
    """The PPO trainer the pipeline runs (and the benchmark times): the reward shaped against
    repetition, the value model a trainable copy of the reward model, prompts cut from the left.
    The policy's minimum response length must already be set (`min_new_tokens`)."""
    return PPOTrainer(
        args=args,
        processing_class=tokenizer,
        model=policy,
        ref_model=copy.deepcopy(reference),
        reward_model=ShapedReward(reward_model, options.repetition_penalty),
        value_model=copy.deepcopy(reward_model),
        train_dataset=prompt_dataset(prompts, tokenizer, options.max_prompt_length),
        eval_dataset=prompt_dataset(eval_prompts, tokenizer, options.max_prompt_length),
        callbacks=[StopOnNonFiniteLoss("ppo_model"), *callbacks],
    )


def train_ppo(
    corpus: pd.DataFrame,
    policy: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    reward_model: PreTrainedModel,
    target: str,
    args: PPOConfig,
    options: PpoOptions,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainingResult:
    """PPO on the "ppo" split's prompts, then the same held-out prompts sampled before and after
    and scored by the reward model and the judge."""
    examples = corpus_examples(corpus)
    train_prompts = examples.loc[examples["split"] == "ppo", "prompt"].tolist()
    eval_prompts = examples.loc[examples["split"] == "eval", "prompt"].head(options.eval_prompts)
    batch_size = args.per_device_train_batch_size
    if len(train_prompts) < batch_size:
        raise TrainingDataError(
            f"cleaned_corpus gives {len(train_prompts)} PPO prompts, fewer than one batch "
            f"({batch_size}); lower batch_size or crawl more documents"
        )
    if len(eval_prompts) < 8:
        raise TrainingDataError(
            f"cleaned_corpus gives {len(eval_prompts)} held-out prompts; the judge needs at "
            "least 8 for an interval: crawl more documents"
        )
    set_seed(args.seed)
    reference = copy.deepcopy(policy)
    # Stopping at once is the cheapest way to dodge both a low score and the KL penalty, and a
    # tiny policy finds it within a few updates; a minimum length keeps PPO on the content.
    # TRL's rollouts and `generate` both merge this from the model's generation config.
    policy.generation_config.min_new_tokens = options.min_response_length
    evaluation = [p for p in eval_prompts for _ in range(options.eval_samples)]
    before = rollouts(policy, reward_model, tokenizer, evaluation, args, options, target)
    budget = PpoBudget(
        options.budget_kl_per_token, options.budget_entropy_ratio, args.response_length, policy
    )
    trainer = ppo_trainer(
        policy,
        reference,
        reward_model,
        tokenizer,
        args,
        options,
        train_prompts,
        eval_prompts.tolist(),
        [budget, *callbacks],
    )
    with contextlib.suppress(BudgetSpent):
        trainer.train()
    model = trainer.policy_model
    after = rollouts(model, reward_model, tokenizer, evaluation, args, options, target)
    # The minimum length is a rollout rule, not part of the model: served with it, the A/B test
    # would compare decoding settings instead of models.
    model.generation_config.min_new_tokens = reference.generation_config.min_new_tokens
    history = trainer.state.log_history
    gain, low, high = paired_bootstrap(
        before["judge"], after["judge"], before["prompt"], seed=args.seed
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
        "kept_update": float(
            trainer.state.global_step if budget.rolled_back_to is None else budget.rolled_back_to
        ),
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
    return TrainingResult(model, tokenizer, metrics, history, samples, reason)
