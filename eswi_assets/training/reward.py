"""Reward model: a scalar sentiment scorer on the policy's own backbone and tokenizer (TRL reward).

TRL's PPO feeds the policy's token ids straight into the reward model's `score` head, so the
reward model must share the policy's tokenizer; starting it from the SFT weights (as InstructGPT
does) guarantees that and gives it a language model to build on.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainerCallback,
    set_seed,
)
from trl import RewardConfig, RewardTrainer
from trl.experimental.utils import get_reward

from eswi_assets.training.checkpoints import last_checkpoint
from eswi_assets.training.guards import StopOnNonFiniteLoss
from eswi_assets.training.result import TrainingResult

# Fixed minimal pairs (same topic, opposite sentiment) whose scores must fall in the right order
# after every training run: a flipped label (or a flipped sign somewhere) has silently broken
# reward models before, and such a flip turns every pair around.
PROBE_PAIRS = [
    (
        "服務很好，房間乾淨又舒適，非常滿意，下次還會再來。",
        "服務很差，房間又髒又吵，非常失望，再也不會來了。",
    ),
    (
        "這本書寫得真好，內容精彩，值得推薦給朋友。",
        "這本書寫得很爛，內容空洞，浪費錢，不推薦。",
    ),
    (
        "品質很好，用了很久都沒問題，客服態度親切，推薦。",
        "品質太差了，用兩天就壞了，客服態度惡劣，不推薦。",
    ),
]


# Phrases of each sentiment that a hacked policy would loop on; written for the probes, in no
# training set. Each, repeated REPEATS times, must score below every genuine probe text of that
# sentiment.
REPEATED_PHRASES = {
    "positive": ["很好，", "滿意", "非常棒！", "推薦推薦", "開心"],
    "negative": ["很差，", "失望", "爛透了！", "不推薦", "生氣"],
}
REPEATS = 15


def reward_model_from(policy: PreTrainedModel) -> PreTrainedModel:
    """A one-output sequence classifier with the policy's architecture and backbone weights."""
    config = copy.deepcopy(policy.config)
    config.num_labels = 1
    config.architectures = None
    model = AutoModelForSequenceClassification.from_config(config)
    backbone = getattr(model, model.base_model_prefix)
    backbone.load_state_dict(getattr(policy, policy.base_model_prefix).state_dict())
    model.config.pad_token_id = policy.config.pad_token_id
    return model


def encode(tokenizer: PreTrainedTokenizerBase, text: str, max_length: int) -> list[int]:
    """Token ids cut to fit, always ending in EOS: the position the reward is read from."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][: max_length - 1]
    return [*ids, tokenizer.eos_token_id]


def pair_dataset(pairs: pd.DataFrame, tokenizer: PreTrainedTokenizerBase, max_length: int):
    """Pre-tokenized pairs, so TRL neither drops long texts nor adds a second EOS."""
    return Dataset.from_dict(
        {
            "chosen_ids": [
                encode(tokenizer, p + c, max_length)
                for p, c in zip(pairs["prompt"], pairs["chosen"], strict=True)
            ],
            "rejected_ids": [
                encode(tokenizer, p + r, max_length)
                for p, r in zip(pairs["prompt"], pairs["rejected"], strict=True)
            ],
        }
    )


@torch.no_grad()
def score(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int = 512,
    batch_size: int = 32,
) -> np.ndarray:
    """Rewards the way TRL's PPO reads them (`get_reward`: score head at the last real token)."""
    model.eval()
    scores = []
    for start in range(0, len(texts), batch_size):
        ids = [encode(tokenizer, t, max_length) for t in texts[start : start + batch_size]]
        width = max(len(i) for i in ids)
        batch = torch.tensor(
            [i + [tokenizer.pad_token_id] * (width - len(i)) for i in ids], device=model.device
        )
        _, rewards, _ = get_reward(model, batch, tokenizer.pad_token_id, 0)
        scores.append(rewards.float().cpu().numpy())
    return np.concatenate(scores) if scores else np.zeros(0)


def pair_metrics(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, pairs: pd.DataFrame, max_length: int
) -> dict[str, float]:
    """Held-out pairwise accuracy and mean margin, per source of pairs."""
    metrics = {}
    for source, part in pairs.groupby("source", sort=True):
        chosen = score(model, tokenizer, (part["prompt"] + part["chosen"]).tolist(), max_length)
        rejected = score(model, tokenizer, (part["prompt"] + part["rejected"]).tolist(), max_length)
        metrics[f"{source}_accuracy"] = float(np.mean(chosen > rejected))
        metrics[f"{source}_margin"] = float(np.mean(chosen - rejected))
        metrics[f"{source}_eval_pairs"] = float(len(part))
    return metrics


def probe_scores(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, target: str
) -> pd.DataFrame:
    """One row per probe pair: the target-sentiment text should outscore the other one."""
    positive, negative = zip(*PROBE_PAIRS, strict=True)
    preferred, other = (positive, negative) if target == "positive" else (negative, positive)
    probes = pd.DataFrame({"preferred": preferred, "other": other})
    probes["preferred_reward"] = score(model, tokenizer, list(preferred))
    probes["other_reward"] = score(model, tokenizer, list(other))
    probes["in_order"] = probes["preferred_reward"] > probes["other_reward"]
    return probes


def adversarial_probes(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, target: str
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Texts a reward hack would produce, each against the genuine probe texts it must not beat:
    a target phrase repeated REPEATS times, and a text of the other sentiment made three times
    longer by repeating it (length must not turn sentiment around)."""
    positive, negative = zip(*PROBE_PAIRS, strict=True)
    genuine, other = (positive, negative) if target == "positive" else (negative, positive)
    genuine_scores = score(model, tokenizer, list(genuine))
    floor = float(genuine_scores.min())
    rows = [
        {"probe": "repetition", "text": phrase * REPEATS} for phrase in REPEATED_PHRASES[target]
    ] + [{"probe": "length", "text": text * 3} for text in other]
    probes = pd.DataFrame(rows)
    probes["reward"] = score(model, tokenizer, probes["text"].tolist())
    probes["genuine_floor"] = floor
    probes["passed"] = probes["reward"] < floor
    ok = probes.groupby("probe")["passed"].all()
    return probes, {
        "repetition_probe_ok": float(ok.get("repetition", False)),
        "length_probe_ok": float(ok.get("length", False)),
        "repetition_probe_max": float(probes.loc[probes["probe"] == "repetition", "reward"].max()),
        "genuine_probe_min": floor,
    }


def reward_trainer(
    policy: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    args: RewardConfig,
    train: pd.DataFrame,
    callbacks: Sequence[TrainerCallback] = (),
) -> RewardTrainer:
    """The reward trainer the pipeline runs: a scorer on the policy's backbone, pre-tokenized
    pairs in a seeded shuffle, stopped on a non-finite loss."""
    dataset = pair_dataset(train, tokenizer, args.max_length).shuffle(seed=args.seed)
    return RewardTrainer(
        model=reward_model_from(policy),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[StopOnNonFiniteLoss("reward_model"), *callbacks],
    )


def train_reward(
    pairs: pd.DataFrame,
    policy: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    target: str,
    args: RewardConfig,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainingResult:
    """Train on the pairs' "train" split; report held-out accuracy per source and the probes.
    Resumes a checkpoint in `args.output_dir` if one is there (a retried step)."""
    train, held_out = pairs[pairs["split"] == "train"], pairs[pairs["split"] == "eval"]
    set_seed(args.seed)
    trainer = reward_trainer(policy, tokenizer, args, train, callbacks)
    trainer.train(resume_from_checkpoint=last_checkpoint(Path(args.output_dir)))
    model = trainer.model
    probes = probe_scores(model, tokenizer, target)
    adversarial, adversarial_metrics = adversarial_probes(model, tokenizer, target)
    metrics = {
        **pair_metrics(model, tokenizer, held_out, args.max_length),
        **adversarial_metrics,
        "train_pairs": float(len(train)),
        "optimizer_steps": float(trainer.state.global_step),
        "save_steps": float(trainer.state.save_steps),
        "probe_order_ok": float(probes["in_order"].all()),
        "probe_gap": float((probes["preferred_reward"] - probes["other_reward"]).mean()),
    }
    for source, count in train["source"].value_counts().items():
        metrics[f"{source}_train_pairs"] = float(count)
    metrics["label_accuracy"] = metrics.get("labels_accuracy", float("nan"))
    pair_rows = pd.DataFrame(
        {
            "probe": "pair",
            "text": probes["preferred"],
            "reward": probes["preferred_reward"],
            "must_beat_or_stay_below": probes["other_reward"],
            "passed": probes["in_order"],
        }
    )
    attack_rows = adversarial.rename(columns={"genuine_floor": "must_beat_or_stay_below"})
    probe_table = pd.concat([pair_rows, attack_rows], ignore_index=True)
    return TrainingResult(model, tokenizer, metrics, trainer.state.log_history, probe_table)
