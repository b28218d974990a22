"""How far can the reward model's held-out label accuracy go, and what gets it there?

Builds the pairs the `reward_model` asset builds from the seed labels (`label_pairs` +
`repetition_pairs`, target "positive"; no feedback pairs, as in the default run), trains the
reward model with `train_reward` from the shipped CPU base checkpoint (the SFT model the asset
starts from is this base fine-tuned on the demo corpus: same architecture and tokenizer, close
weights), and prints held-out `labels_accuracy`, the three probe flags and the seconds per arm.
The first arm is always the current defaults (RewardParams, SEED_PER_LABEL), so every run shows
its baseline.

The ceiling: a character 1-3-gram naive Bayes and a logistic regression (scikit-learn, from the
dev-only `bench` dependency group), fitted on the training-side sentences and scored pairwise on
the same held-out pairs.

Held-out pairs are always the ones `label_pairs` makes from `held_out(sentence_id)`; an arm with
more seed sentences per label also has more held-out pairs (the same split rule).

    uv run --group bench python benchmarks/bench_reward.py --ceiling-only
    uv run --group bench python benchmarks/bench_reward.py --no-ceiling --arms epochs_5 center_0.01
    uv run --group bench python benchmarks/bench_reward.py --list
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from eswi_assets.assets.models.params import RewardParams
from eswi_assets.labeling.seed import SEED_PER_LABEL, seed_labels
from eswi_assets.training.base import load_pretrained
from eswi_assets.training.data import held_out, label_pairs, repetition_pairs
from eswi_assets.training.pretrain import SHIPPED
from eswi_assets.training.reward import train_reward

TARGET = "positive"

# Each arm: overrides of RewardParams fields, of extra RewardConfig fields ("trl"), and of the
# data ("per_label", "pair_rounds": label pairings per training sentence, "repetition_share",
# "dropout": the backbone's attn/resid/embd dropout, which only acts with TRL's
# `disable_dropout` turned off: RewardConfig turns dropout off by default).
ARMS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "per_label_6000": {"per_label": 6000},
    "rounds_2": {"pair_rounds": 2},
    "rounds_3": {"pair_rounds": 3},
    "epochs_5": {"params": {"epochs": 5.0}},
    "epochs_5_lr1e-4": {"params": {"epochs": 5.0, "learning_rate": 1e-4}},
    "cosine": {"trl": {"lr_scheduler_type": "cosine"}},
    "cosine_e5": {"params": {"epochs": 5.0}, "trl": {"lr_scheduler_type": "cosine"}},
    "wd_0.1": {"trl": {"weight_decay": 0.1}},
    "dropout_0": {"dropout": 0.0},
    "dropout_0.2": {"dropout": 0.2},
    "batch_32": {"params": {"batch_size": 32}},
    "batch_8": {"params": {"batch_size": 8}},
    "center_0.01": {"trl": {"center_rewards_coefficient": 0.01}},
    "rep_0.2": {"repetition_share": 0.2},
    "lr_1e-3": {"params": {"learning_rate": 1e-3}},
    "epochs_2": {"params": {"epochs": 2.0}},
    "dropout_on": {"trl": {"disable_dropout": False}},
    "p6000_all_dropout_center": {
        "per_label": 6000,
        "params": {"max_label_pairs": 6000},
        "trl": {"disable_dropout": False, "center_rewards_coefficient": 0.01},
    },
    "p6000_all": {"per_label": 6000, "params": {"max_label_pairs": 6000}},
    "p6000_all_e2": {"per_label": 6000, "params": {"max_label_pairs": 6000, "epochs": 2.0}},
    "p6000_all_drop0.2": {
        "per_label": 6000,
        "params": {"max_label_pairs": 6000},
        "dropout": 0.2,
    },
    "p6000_all_wd": {
        "per_label": 6000,
        "params": {"max_label_pairs": 6000},
        "trl": {"weight_decay": 0.1},
    },
}


def ceiling(labels: pd.DataFrame, held: pd.DataFrame) -> dict[str, float]:
    """Pairwise held-out accuracy of char 1-3-gram naive Bayes (counts) and logistic regression
    (presence) fitted on the training-side sentences."""
    train = labels[~labels["sentence_id"].map(held_out)]
    y = (train["label"] == TARGET).to_numpy()
    figures = {}
    for name, binary, model in (
        ("naive_bayes", False, MultinomialNB()),
        ("logistic", True, LogisticRegression(C=10.0, max_iter=2000)),
    ):
        vectorizer = CountVectorizer(analyzer="char", ngram_range=(1, 3), binary=binary)
        model.fit(vectorizer.fit_transform(train["text"]), y)

        def score(texts: pd.Series, model=model, vectorizer=vectorizer) -> np.ndarray:
            return model.predict_log_proba(vectorizer.transform(texts))[:, 1]

        figures[name] = float(np.mean(score(held["chosen"]) > score(held["rejected"])))
    return figures


def arm_pairs(arm: dict[str, Any], params: RewardParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The asset's pairs for this arm (label pairs + repetition pairs), and the seed labels."""
    labels = seed_labels(arm.get("per_label", SEED_PER_LABEL))
    pairs = label_pairs(labels, TARGET, params.max_label_pairs, params.seed)
    extra = [
        label_pairs(labels, TARGET, params.max_label_pairs, params.seed + r)
        for r in range(1, arm.get("pair_rounds", 1))
    ]
    extra_train = [p[p["split"] == "train"] for p in extra]
    pairs = pd.concat([pairs, *extra_train], ignore_index=True)
    degenerate = repetition_pairs(pairs, params.seed, arm.get("repetition_share", 0.4))
    return pd.concat([pairs, degenerate], ignore_index=True), labels


def run_arm(name: str, arm: dict[str, Any]) -> dict[str, Any]:
    params = RewardParams(**arm.get("params", {}))
    pairs, _ = arm_pairs(arm, params)
    policy, tokenizer = load_pretrained(str(SHIPPED))
    if "dropout" in arm:
        for key in ("attn_pdrop", "resid_pdrop", "embd_pdrop"):
            setattr(policy.config, key, arm["dropout"])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        args = params.trl_config(Path(tmp))
        for key, value in arm.get("trl", {}).items():
            setattr(args, key, value)
        result = train_reward(pairs, policy, tokenizer, TARGET, args)
    m = result.metrics
    return {
        "arm": name,
        "labels_accuracy": m["labels_accuracy"],
        "eval_pairs": int(m["labels_eval_pairs"]),
        "train_pairs": int(m["train_pairs"]),
        "repetition_ok": m["repetition_probe_ok"],
        "length_ok": m["length_probe_ok"],
        "order_ok": m["probe_order_ok"],
        "rep_max": m["repetition_probe_max"],
        "genuine_min": m["genuine_probe_min"],
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", nargs="+", default=["baseline"], choices=sorted(ARMS))
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--ceiling-only", action="store_true")
    parser.add_argument("--ceiling-per-label", type=int, default=SEED_PER_LABEL)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.list:
        for name, arm in ARMS.items():
            print(f"{name:20} {arm}")
        return
    torch.set_num_threads(args.threads)
    print(f"defaults: SEED_PER_LABEL {SEED_PER_LABEL}, {RewardParams().model_dump()}")
    if not args.no_ceiling:
        params = RewardParams()
        pairs, labels = arm_pairs({"per_label": args.ceiling_per_label}, params)
        held = pairs[(pairs["split"] == "eval") & (pairs["source"] == "labels")]
        started = time.perf_counter()
        figures = ceiling(labels, held)
        seconds = time.perf_counter() - started
        print(f"ceiling on {len(held)} held-out pairs: {figures} ({seconds:.0f} s)", flush=True)
    if args.ceiling_only:
        return
    arms = ["baseline", *[a for a in args.arms if a != "baseline"]]
    rows = []
    for name in arms:
        rows.append(run_arm(name, ARMS[name]))
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
