"""Do users' unpaired 1-5 ratings help the reward model, and in which form?

A seeded simulation on the seed reviews, whose true sentiment is known. Simulated users, each
with their own rating bias (a generous user rates everything higher), rate single answers to
prompts on the training side of `held_out`; every arm trains the reward model from the shipped
CPU base checkpoint on the same few label pairs plus:

- `labels`: nothing else;
- `pooled`: the ratings of all users pooled into desirable (>= 4) and undesirable (<= 2) labels,
  paired at random (KTO-style labels, ignoring who rated);
- `user_ratings`: `feedback_pairs.user_rating_pairs`, an answer a user rated 2+ points above
  another answer of theirs (`pooled` gets as many pairs);
- `comparisons`: the same users instead compare two answers to one prompt (the comparison
  mode), `feedback_pairs.comparison_pairs`, for reference.

Held-out accuracy is measured on sentences and prompts no arm trained on: `bare` (pairs of a
held-out positive over a held-out negative sentence) and `prompted` (the same with a held-out
prompt before each, the way feedback texts are scored).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_feedback_pairs.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from eswi_assets.assets.models.params import RewardParams
from eswi_assets.labeling.seed import seed_labels
from eswi_assets.stores.feedback import COLUMNS
from eswi_assets.training.base import load_pretrained
from eswi_assets.training.data import PAIR_COLUMNS, format_prompt, held_out
from eswi_assets.training.feedback_pairs import (
    COMPARISON,
    RATING,
    comparison_pairs,
    user_rating_pairs,
)
from eswi_assets.training.pretrain import SHIPPED
from eswi_assets.training.reward import train_reward

TOPICS = [f"第{i}則心得" for i in range(400)]


def texts_by_side(per_label: int) -> dict[str, pd.DataFrame]:
    """Seed texts with their sentiment (+1 / -1), split by `held_out` of the sentence id."""
    labels = seed_labels(per_label)
    labels = labels.assign(quality=np.where(labels["label"] == "positive", 1, -1))
    side = labels["sentence_id"].map(held_out)
    return {"train": labels[~side], "eval": labels[side]}


def prompts_by_side() -> dict[str, list[str]]:
    prompts = [format_prompt(topic) for topic in TOPICS]
    return {
        "train": [p for p in prompts if not held_out(p)],
        "eval": [p for p in prompts if held_out(p)],
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    df["rating"] = df["rating"].astype("Int64")
    return df


def simulate_ratings(
    texts: pd.DataFrame, prompts: list[str], users: int, per_user: int, bias: float, seed: int
) -> pd.DataFrame:
    """Each user rates `per_user` answers: 3 + their bias + the text's sentiment + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        user_bias = rng.normal(0, bias)
        for index in rng.choice(len(texts), per_user, replace=False):
            text = texts.iloc[index]
            value = 3 + user_bias + text["quality"] + rng.normal(0, 0.8)
            rows.append(
                {
                    "kind": RATING,
                    "prompt": prompts[rng.integers(len(prompts))],
                    "response": text["text"],
                    "rating": int(np.clip(np.rint(value), 1, 5)),
                    "user_hash": f"u{user}",
                }
            )
    return frame(rows)


def simulate_comparisons(
    texts: pd.DataFrame, prompts: list[str], users: int, per_user: int, seed: int
) -> pd.DataFrame:
    """Each user compares `per_user` pairs of answers: a logistic pick on the sentiment gap;
    two negative answers are `both_bad` half of the time."""
    rng = np.random.default_rng(seed + 10_000)
    rows = []
    for user in range(users):
        for _ in range(per_user):
            a, b = (texts.iloc[i] for i in rng.choice(len(texts), 2, replace=False))
            if a["quality"] < 0 and b["quality"] < 0 and rng.random() < 0.5:
                choice = "both_bad"
            else:
                p_first = 1 / (1 + np.exp(-2 * (a["quality"] - b["quality"])))
                choice = "first" if rng.random() < p_first else "second"
            rows.append(
                {
                    "kind": COMPARISON,
                    "prompt": prompts[rng.integers(len(prompts))],
                    "response": a["text"],
                    "other_response": b["text"],
                    "choice": choice,
                    "user_hash": f"u{user}",
                }
            )
    return frame(rows)


def pooled_pairs(ratings: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Desirable (>= 4) over undesirable (<= 2) answers of any users, `n` random pairs."""
    rng = np.random.default_rng(seed)
    texts = ratings["prompt"] + ratings["response"]
    good = texts[ratings["rating"] >= 4].to_numpy()
    bad = texts[ratings["rating"] <= 2].to_numpy()
    return pd.DataFrame(
        {
            "prompt": "",
            "chosen": rng.choice(good, n),
            "rejected": rng.choice(bad, n),
            "source": "pooled",
            "split": "train",
        },
        columns=PAIR_COLUMNS,
    )


def label_train_pairs(texts: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pos = texts.loc[texts["quality"] > 0, "text"].to_numpy()
    neg = texts.loc[texts["quality"] < 0, "text"].to_numpy()
    return pd.DataFrame(
        {
            "prompt": "",
            "chosen": rng.choice(pos, n, replace=False),
            "rejected": rng.choice(neg, n, replace=False),
            "source": "labels",
            "split": "train",
        },
        columns=PAIR_COLUMNS,
    )


def eval_pairs(texts: pd.DataFrame, prompts: list[str], n: int) -> pd.DataFrame:
    """Held-out positive over held-out negative, bare (`label`) and after a held-out prompt."""
    rng = np.random.default_rng(12345)
    pos = texts.loc[texts["quality"] > 0, "text"].to_numpy()
    neg = texts.loc[texts["quality"] < 0, "text"].to_numpy()
    chosen, rejected = rng.choice(pos, n), rng.choice(neg, n)
    bare = pd.DataFrame({"prompt": "", "chosen": chosen, "rejected": rejected, "source": "bare"})
    prompted = bare.assign(prompt=rng.choice(prompts, n), source="prompted")
    return pd.concat([bare, prompted], ignore_index=True).assign(split="eval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--per-user", type=int, default=8)
    parser.add_argument("--label-pairs", type=int, default=30)
    parser.add_argument("--bias", type=float, default=1.0, help="sd of a user's rating bias")
    parser.add_argument("--eval-pairs", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    texts, prompts = texts_by_side(700), prompts_by_side()
    held = eval_pairs(texts["eval"], prompts["eval"], args.eval_pairs)
    policy, tokenizer = load_pretrained(str(SHIPPED))
    params = RewardParams(seed=0, max_length=96)
    print(
        f"{len(texts['train'])} training-side texts, {len(texts['eval'])} held-out texts; "
        f"{args.users} users x {args.per_user} ratings, user bias sd {args.bias}; "
        f"{args.label_pairs} label pairs; reward params {params.model_dump()}"
    )
    results = []
    for seed in args.seeds:
        labels = label_train_pairs(texts["train"], args.label_pairs, seed)
        ratings = simulate_ratings(
            texts["train"], prompts["train"], args.users, args.per_user, args.bias, seed
        )
        user_pairs = user_rating_pairs(ratings, seed)
        user_pairs = user_pairs[user_pairs["split"] == "train"]
        comparisons = comparison_pairs(
            simulate_comparisons(texts["train"], prompts["train"], args.users, args.per_user, seed)
        )
        arms = {
            "labels": labels,
            "pooled": pd.concat([labels, pooled_pairs(ratings, len(user_pairs), seed)]),
            "user_ratings": pd.concat([labels, user_pairs]),
            "comparisons": pd.concat([labels, comparisons]),
        }
        for arm, train in arms.items():
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                result = train_reward(
                    pd.concat([train, held], ignore_index=True),
                    policy,
                    tokenizer,
                    "positive",
                    params.model_copy(update={"seed": seed}).trl_config(Path(tmp)),
                )
            m = result.metrics
            results.append(
                {
                    "seed": seed,
                    "arm": arm,
                    "train_pairs": len(train),
                    "bare_accuracy": m["bare_accuracy"],
                    "prompted_accuracy": m["prompted_accuracy"],
                    "seconds": time.perf_counter() - started,
                }
            )
            print(results[-1], flush=True)
    table = pd.DataFrame(results)
    summary = table.groupby("arm", sort=False)[
        ["train_pairs", "bare_accuracy", "prompted_accuracy"]
    ].agg(["mean", "std"])
    print(table.to_markdown(index=False, floatfmt=".3f"))
    print(summary.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
