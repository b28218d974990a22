"""Training data: prompt/completion pairs from the corpus and preference pairs for the reward model
(from labels here; from users' feedback in `feedback_pairs`).

Splits hash a stable id (doc_id, sentence_id, prompt), never a row position, so a document stays
on the same side when the corpus grows or is read in another order, and the SFT, reward and PPO
steps agree on which documents are held out without passing lists around. Documents are first
reduced to one per near-duplicate cluster across all crawl dates (the stored `minhash`
signatures, datasketch's LSH): the same text under another URL or date is trained on once, and
no held-out document has a near-twin in training.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import numpy as np
import pandas as pd

from eswi_assets.cleaning.dedup import body_signatures, near_duplicate_clusters
from eswi_assets.cleaning.options import DEFAULTS as CLEANING

Split = Literal["sft", "ppo", "eval"]

# Share of documents per split: "eval" is held out from every training step (SFT eval loss,
# before/after reward of PPO), "ppo" gives PPO prompts the SFT model never trained on.
EVAL_FRACTION = 0.30
PPO_FRACTION = 0.25

PROMPT_TEMPLATE = "標題：{title}\n摘要：{summary}\n內文：\n"
SENTIMENTS = ("positive", "negative", "neutral")
PAIR_COLUMNS = ["prompt", "chosen", "rejected", "source", "split"]


class TrainingDataError(ValueError):
    """The inputs cannot make a usable training set; the message names the input and the cause."""


def format_prompt(title: str, summary: str = "") -> str:
    """The one prompt format shared by training and serving (title + summary -> body)."""
    return PROMPT_TEMPLATE.format(title=title.strip(), summary=summary.strip())


def hash_fraction(key: str) -> float:
    """A stable number in [0, 1) for `key`."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2**64


def split_of(key: str) -> Split:
    fraction = hash_fraction(key)
    if fraction < EVAL_FRACTION:
        return "eval"
    return "ppo" if fraction < EVAL_FRACTION + PPO_FRACTION else "sft"


def held_out(key: str) -> bool:
    """Held-out half of the reward model's pairs (a separate cut from the document splits)."""
    return hash_fraction(f"reward:{key}") < EVAL_FRACTION


def corpus_examples(corpus: pd.DataFrame) -> pd.DataFrame:
    """One row per usable document: doc_id, prompt, completion (the body), split."""
    if corpus.empty:
        raise TrainingDataError("cleaned_corpus is empty: crawl and clean at least one partition")
    docs = corpus.drop_duplicates("doc_id").sort_values("doc_id")
    docs = docs[docs["body"].fillna("").str.strip().str.len() > 0]
    if docs.empty:
        raise TrainingDataError("cleaned_corpus has no document with a non-empty body")
    docs = one_per_cluster(docs)
    examples = pd.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "prompt": [
                format_prompt(t, s)
                for t, s in zip(docs["title"].fillna(""), docs["summary"].fillna(""), strict=True)
            ],
            "completion": docs["body"].str.strip(),
            "split": docs["doc_id"].map(split_of),
        }
    ).reset_index(drop=True)
    for split in ("sft", "eval"):
        if not (examples["split"] == split).any():
            raise TrainingDataError(
                f"cleaned_corpus has {len(examples)} documents and none falls in the {split!r} "
                "split; SFT needs more documents"
            )
    return examples


def one_per_cluster(docs: pd.DataFrame) -> pd.DataFrame:
    """The first document (earliest crawl date, then doc_id) of each near-duplicate cluster
    across all dates, sorted by doc_id. Signatures come from the `minhash` column; a corpus
    stored without one gets them computed from the bodies."""
    order = ["partition_date", "doc_id"] if "partition_date" in docs else ["doc_id"]
    docs = docs.sort_values(order, kind="stable")
    stored = docs.get("minhash")
    if stored is None or stored.isna().any():
        signatures = body_signatures(docs["body"].tolist())
    else:
        signatures = stored.tolist()
    clusters = near_duplicate_clusters(signatures, threshold=CLEANING.near_duplicate_threshold)
    first = [cluster == index for index, cluster in enumerate(clusters)]
    return docs[first].sort_values("doc_id")


def label_pairs(
    labels: pd.DataFrame, target: str, max_pairs: int, seed: int, min_pairs: int = 8
) -> pd.DataFrame:
    """(chosen, rejected) pairs: a sentence of the target sentiment over one of another sentiment.

    Sentences are split into train/held-out before pairing, so held-out accuracy is measured on
    sentences the reward model never saw; each side pairs its texts round-robin after a seeded
    shuffle, so every sentence is used and the result is reproducible.
    """
    if target not in SENTIMENTS:
        raise TrainingDataError(f"target sentiment {target!r} is not one of {SENTIMENTS}")
    usable = labels[labels["label"].isin(SENTIMENTS) & labels["text"].fillna("").str.strip().ne("")]
    usable = usable.drop_duplicates("sentence_id").sort_values("sentence_id")
    counts = usable["label"].value_counts()
    n_target, n_other = int(counts.get(target, 0)), int(len(usable) - counts.get(target, 0))
    if min(n_target, n_other) < 2:
        raise TrainingDataError(
            f"labeled_sentiment has {n_target} {target} and {n_other} other sentences; "
            "the reward model needs at least 2 of each"
        )
    rng = np.random.default_rng(seed)
    frames = []
    for split, part in usable.groupby(usable["sentence_id"].map(held_out), sort=True):
        chosen = part.loc[part["label"] == target, "text"].to_numpy()
        rejected = part.loc[part["label"] != target, "text"].to_numpy()
        if len(chosen) == 0 or len(rejected) == 0:
            continue
        rng.shuffle(chosen)
        rng.shuffle(rejected)
        n = max(len(chosen), len(rejected))
        frames.append(
            pd.DataFrame(
                {
                    "prompt": "",
                    "chosen": np.resize(chosen, n),
                    "rejected": np.resize(rejected, n),
                    "source": "labels",
                    "split": "eval" if split else "train",
                }
            )
        )
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PAIR_COLUMNS)
    train = pairs[pairs["split"] == "train"]
    if len(train) < min_pairs:
        raise TrainingDataError(
            f"labeled_sentiment gives {len(train)} training pairs; at least {min_pairs} are needed"
        )
    held = pairs[pairs["split"] == "eval"]
    return pd.concat([train.head(max_pairs), held.head(max(1, max_pairs // 4))], ignore_index=True)


def repetition_pairs(pairs: pd.DataFrame, seed: int, share: float = 0.4) -> pd.DataFrame:
    """Degenerate texts rejected against real ones: a short fragment of a chosen sentence
    repeated many times. A reward model trained only on real sentences scores such loops by
    their sentiment words alone, which is exactly what PPO learns to exploit; these pairs teach
    it that repetition is worse than a real text. Fragments come from the training side only."""
    train = pairs[(pairs["split"] == "train") & (pairs["source"] == "labels")]
    if train.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    rng = np.random.default_rng(seed)
    chosen = train.sample(n=max(1, int(len(train) * share)), random_state=seed)["chosen"]
    rows = []
    for text in chosen:
        width = int(rng.integers(2, 5))
        start = int(rng.integers(0, max(1, len(text) - width)))
        fragment = text[start : start + width] + ("，" if rng.random() < 0.5 else "")
        rows.append(
            {
                "prompt": "",
                "chosen": text,
                "rejected": fragment * int(rng.integers(6, 25)),
                "source": "repetition",
                "split": "train",
            }
        )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


# Fixed prompts whose samples every SFT and PPO version shows, so versions compare like for like.
SAMPLE_PROMPTS = [
    format_prompt("社區長照據點開幕", "長輩在據點共餐、上課，志工分享服務心得。"),
    format_prompt("飯店住宿心得", "這次入住市區飯店，談房間、早餐與服務。"),
    format_prompt("新書閱讀筆記", "讀完這本書之後的一些想法。"),
]
