"""base_model pretraining throughput next to a plain PyTorch training loop over the same model and
data, in the same run (each side in a fresh process, so its peak memory is its own).

    uv run python benchmarks/bench_pretrain.py [--preset cpu] [--steps 60]
    uv run python benchmarks/bench_pretrain.py --preset gpu --steps 200   # GPT-2-small-sized

Tokens/s counts the tokens of every optimizer step (batch x block). The plain loop is AdamW with
the same learning rate, batch and blocks, no scheduler, no evaluation: the floor our step
(transformers' Trainer, data preparation, held-out evaluation) is measured against.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import torch

from eswi_assets.training.base import tiny_gpt2
from eswi_assets.training.device import detect_hardware
from eswi_assets.training.pretrain import (
    PretrainRecipe,
    corpus_blocks,
    corpus_lines,
    pretrain,
    recipe,
)
from eswi_assets.training.tokenizer import train_character_tokenizer


def _peak() -> dict[str, float]:
    peak = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        peak["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def ours(plan: PretrainRecipe) -> dict[str, float]:
    start = time.perf_counter()
    result = pretrain(plan, Path(tempfile.mkdtemp()))
    seconds = time.perf_counter() - start
    tokens = result.metrics["train_tokens"]
    return {
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "in_loop_tokens_per_s": result.metrics["tokens_per_second"],
        "eval_loss": result.metrics["eval_loss_per_char"],
    } | _peak()


def plain_loop(plan: PretrainRecipe) -> dict[str, float]:
    start = time.perf_counter()
    lines = corpus_lines(plan.max_characters)
    tokenizer = train_character_tokenizer(lines, min_count=2, max_size=plan.vocab_size)
    blocks = torch.tensor(corpus_blocks(lines, tokenizer, plan.block_size))
    device = detect_hardware().device
    torch.manual_seed(plan.seed)
    model = tiny_gpt2(tokenizer, plan.shape).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=plan.learning_rate)
    batch, steps = plan.batch_size, plan.max_steps
    model.train()
    loop_start = time.perf_counter()
    for step in range(steps):
        rows = torch.randint(0, len(blocks), (batch,))
        ids = blocks[rows].to(device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step == steps - 1:
            final = float(loss)
    if device == "cuda":
        torch.cuda.synchronize()
    end = time.perf_counter()
    tokens = steps * batch * plan.block_size
    return {
        "seconds": end - start,
        "tokens_per_s": tokens / (end - start),
        "in_loop_tokens_per_s": tokens / (end - loop_start),
        "eval_loss": final,
    } | _peak()


def _fresh(fn, plan: PretrainRecipe) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (plan,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu", choices=["cpu", "gpu", "test"])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    plan = recipe(args.preset, max_steps=args.steps)
    hardware = detect_hardware()
    print(
        f"device {hardware.device}, bf16 {hardware.bf16}, torch threads "
        f"{torch.get_num_threads()}; preset {args.preset}: {plan.n_layer}x{plan.n_embd}, "
        f"batch {plan.batch_size} x {plan.block_size} characters, {args.steps} steps"
    )
    rows = {"ours (base_model)": _fresh(ours, plan), "plain PyTorch": _fresh(plain_loop, plan)}
    print(f"{'':18} {'seconds':>8} {'tokens/s':>9} {'in-loop tok/s':>14} {'peak RSS MiB':>13}")
    for label, row in rows.items():
        extra = f"  peak CUDA {row['peak_cuda_mib']:.0f} MiB" if "peak_cuda_mib" in row else ""
        print(
            f"{label:18} {row['seconds']:8.1f} {row['tokens_per_s']:9.0f} "
            f"{row['in_loop_tokens_per_s']:14.0f} {row['peak_rss_mib']:13.0f}{extra}"
        )
    mine, base = rows["ours (base_model)"], rows["plain PyTorch"]
    print(
        f"ratio ours / plain: tokens/s {mine['tokens_per_s'] / base['tokens_per_s']:.2f}, "
        f"in-loop {mine['in_loop_tokens_per_s'] / base['in_loop_tokens_per_s']:.2f}, "
        f"peak RSS {mine['peak_rss_mib'] / base['peak_rss_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
