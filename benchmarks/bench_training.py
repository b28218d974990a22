"""Training throughput of our SFT and PPO steps next to the trainer they run, called alone.

Both sides get the same model, data and TRL config in the same run, and the trainer alone is
built by the same builder the step uses (`sft_trainer`, `ppo_trainer`), so the ratio is what our
step adds around that very trainer (data preparation, checks, before/after sampling and
judging). Each variant runs in a fresh process, so its peak memory is its own.

    uv run python benchmarks/bench_training.py [--docs 240] [--epochs 3] [--episodes 128]
    uv run python benchmarks/bench_training.py --gpt2-small   # GPT-2-small-sized SFT (GPU)

Tokens/s: SFT counts the tokens of the training examples times epochs; PPO counts prompt plus
generated tokens of every episode (responses at full length, so an upper bound).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from eswi_assets.assets.models.params import PpoParams, RewardParams, SftParams
from eswi_assets.demo_site.corpus import simplified_reviews, to_traditional
from eswi_assets.labeling.seed import seed_labels
from eswi_assets.training.base import ModelShape, base_model
from eswi_assets.training.data import corpus_examples, label_pairs
from eswi_assets.training.device import detect_hardware
from eswi_assets.training.ppo import ppo_trainer, prompt_dataset, train_ppo
from eswi_assets.training.reward import train_reward
from eswi_assets.training.sft import sft_trainer, train_sft


def review_corpus(n_docs: int, seed: int = 0) -> pd.DataFrame:
    """Documents like the demo site's: two reviews as the body, its first clause as title."""
    rng = random.Random(seed)
    pool = [*simplified_reviews("positive")[:1500], *simplified_reviews("negative")[:1500]]
    rows = []
    for i in range(n_docs):
        body = to_traditional(rng.choice(pool) + rng.choice(pool))
        first = body.split("，")[0]
        rows.append(
            {"doc_id": f"{i:06d}", "title": first[:12], "summary": first[:40], "body": body}
        )
    return pd.DataFrame(rows)


def _peak_memory() -> dict[str, float]:
    peak = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        peak["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def _timed(fn: Callable[[], float]) -> dict[str, float]:
    """Runs `fn` (which returns the tokens it processed) and reports time, tokens/s, memory."""
    start = time.perf_counter()
    tokens = fn()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds} | _peak_memory()


def fresh_model(corpus: pd.DataFrame, shape: ModelShape):
    """A from-config GPT-2 with a character tokenizer over the corpus (base_model's shape)."""
    examples = corpus_examples(corpus)
    return base_model(None, (examples["prompt"] + examples["completion"]).tolist(), shape)


def sft_ours(corpus: pd.DataFrame, params: SftParams, shape: ModelShape) -> dict[str, float]:
    def run() -> float:
        model, tokenizer = fresh_model(corpus, shape)
        args = params.trl_config(Path(tempfile.mkdtemp()))
        result = train_sft(corpus, model, tokenizer, args, params.sample_new_tokens)
        return result.metrics["train_tokens"] * params.epochs

    return _timed(run)


def sft_direct(corpus: pd.DataFrame, params: SftParams, shape: ModelShape) -> dict[str, float]:
    examples = corpus_examples(corpus)
    model, tokenizer = fresh_model(corpus, shape)
    train = examples[examples["split"] == "sft"]
    held_out = examples[examples["split"] == "eval"]

    def run() -> float:
        args = params.trl_config(Path(tempfile.mkdtemp()))
        trainer = sft_trainer(model, tokenizer, args, train, held_out)
        trainer.train()
        trainer.evaluate()
        return sum(len(ids) for ids in trainer.train_dataset["input_ids"]) * params.epochs

    return _timed(run)


def _ppo_tokens(corpus: pd.DataFrame, tokenizer, params: PpoParams) -> float:
    examples = corpus_examples(corpus)
    prompts = examples.loc[examples["split"] == "ppo", "prompt"].tolist()
    ids = prompt_dataset(prompts, tokenizer, params.max_prompt_length)["input_ids"]
    mean_prompt = sum(len(i) for i in ids) / len(ids)
    return params.episodes * (mean_prompt + params.response_length)


def _load(models_dir: str):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    policy = AutoModelForCausalLM.from_pretrained(f"{models_dir}/sft")
    scorer = AutoModelForSequenceClassification.from_pretrained(f"{models_dir}/reward")
    return policy, AutoTokenizer.from_pretrained(f"{models_dir}/sft"), scorer


def ppo_ours(corpus: pd.DataFrame, params: PpoParams, models_dir: str) -> dict[str, float]:
    policy, tokenizer, scorer = _load(models_dir)

    def run() -> float:
        args = params.trl_config(Path(tempfile.mkdtemp()))
        train_ppo(corpus, policy, tokenizer, scorer, "positive", args, params.options())
        return _ppo_tokens(corpus, tokenizer, params)

    return _timed(run)


def ppo_direct(corpus: pd.DataFrame, params: PpoParams, models_dir: str) -> dict[str, float]:
    policy, tokenizer, scorer = _load(models_dir)
    examples = corpus_examples(corpus)
    prompts = examples.loc[examples["split"] == "ppo", "prompt"].tolist()
    held_out = examples.loc[examples["split"] == "eval", "prompt"].tolist()
    policy.generation_config.min_new_tokens = params.min_response_length

    def run() -> float:
        args = params.trl_config(Path(tempfile.mkdtemp()))
        options = params.options()
        trainer = ppo_trainer(policy, policy, scorer, tokenizer, args, options, prompts, held_out)
        trainer.train()
        return _ppo_tokens(corpus, tokenizer, params)

    return _timed(run)


def _in_fresh_process(fn: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def prepare_ppo_models(corpus: pd.DataFrame, models_dir: str, sft: SftParams) -> None:
    """An SFT policy and a reward model for both PPO variants to start from."""
    model, tokenizer = fresh_model(corpus, ModelShape())
    args = sft.trl_config(Path(tempfile.mkdtemp()))
    result = train_sft(corpus, model, tokenizer, args, sft.sample_new_tokens)
    result.model.save_pretrained(f"{models_dir}/sft")
    result.tokenizer.save_pretrained(f"{models_dir}/sft")
    pairs = label_pairs(seed_labels(1000), "positive", 2000, 0)
    reward_args = RewardParams().trl_config(Path(models_dir) / "r")
    reward = train_reward(pairs, result.model, result.tokenizer, "positive", reward_args)
    reward.model.save_pretrained(f"{models_dir}/reward")


def report(name: str, ours: dict[str, float], direct: dict[str, float]) -> None:
    print(f"\n{name}")
    print(f"{'':10} {'seconds':>9} {'tokens/s':>10} {'peak RSS MiB':>13}")
    for label, row in (("ours", ours), ("TRL direct", direct)):
        print(
            f"{label:10} {row['seconds']:9.1f} {row['tokens_per_s']:10.0f} "
            f"{row['peak_rss_mib']:13.0f}"
            + (f"  peak CUDA {row['peak_cuda_mib']:.0f} MiB" if "peak_cuda_mib" in row else "")
        )
    print(f"overhead ratio (ours / direct seconds): {ours['seconds'] / direct['seconds']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--episodes", type=int, default=128)
    parser.add_argument("--gpt2-small", action="store_true", help="12 layers x 768 (GPU)")
    args = parser.parse_args()
    hardware = detect_hardware()
    threads = torch.get_num_threads()
    print(f"device {hardware.device}, bf16 {hardware.bf16}, torch threads {threads}")
    corpus = review_corpus(args.docs)
    shape = (
        ModelShape(n_layer=12, n_embd=768, n_head=12, n_positions=1024, vocab_size=8000)
        if args.gpt2_small
        else ModelShape()
    )
    sft = SftParams(epochs=args.epochs)
    report(
        f"SFT ({args.docs} docs, {args.epochs:g} epochs, {shape.n_layer}x{shape.n_embd})",
        _in_fresh_process(sft_ours, corpus, sft, shape),
        _in_fresh_process(sft_direct, corpus, sft, shape),
    )
    if args.gpt2_small:
        return
    with tempfile.TemporaryDirectory() as models_dir:
        prepare_ppo_models(corpus, models_dir, SftParams())
        ppo = PpoParams(episodes=args.episodes)
        report(
            f"PPO ({args.episodes} episodes, response {ppo.response_length} tokens)",
            _in_fresh_process(ppo_ours, corpus, ppo, models_dir),
            _in_fresh_process(ppo_direct, corpus, ppo, models_dir),
        )


if __name__ == "__main__":
    main()
