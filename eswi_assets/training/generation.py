"""Batched sampling from a causal LM: samples in metadata, before/after evaluation, serving."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

REPLACEMENT = "\ufffd"


def writable_only(tokenizer: PreTrainedTokenizerBase) -> list[int] | None:
    """Token ids a model must never write: UNK (a character-level vocabulary's "not a
    character"), unless it doubles as EOS or PAD as GPT-2's does."""
    unknown = tokenizer.unk_token_id
    if unknown is None or unknown in (tokenizer.eos_token_id, tokenizer.pad_token_id):
        return None
    return [unknown]


def visible_unknowns(tokenizer: PreTrainedTokenizerBase, ids: list[int]) -> str:
    """Decoded text with each UNK shown as U+FFFD: a character the model could not write must
    count as broken in the measures, not vanish as `skip_special_tokens` would make it."""
    suppressed = writable_only(tokenizer)
    if suppressed is None:
        return tokenizer.decode(ids, skip_special_tokens=True)  # GPT-2's UNK is its EOS
    [unknown] = suppressed
    pieces, start = [], 0
    for i, token in enumerate([*ids, unknown]):
        if token == tokenizer.unk_token_id:
            pieces.append(tokenizer.decode(ids[start:i], skip_special_tokens=True))
            start = i + 1
    return REPLACEMENT.join(pieces)


@torch.no_grad()
def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    max_new_tokens: int,
    seed: int = 0,
    temperature: float = 0.7,
    batch_size: int = 16,
) -> list[str]:
    """Sampled continuations (prompt removed, special tokens dropped, UNK shown as U+FFFD),
    reproducible for a seed."""
    was_training = model.training
    model.eval()
    completions: list[str] = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(
                prompts[start : start + batch_size], return_tensors="pt", padding=True
            ).to(model.device)
            output = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=True,
                temperature=temperature,
                top_k=0,
                top_p=1.0,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                suppress_tokens=writable_only(tokenizer),
            )
            new_tokens = output[:, batch["input_ids"].shape[1] :]
            completions += [visible_unknowns(tokenizer, row.tolist()) for row in new_tokens]
    model.train(was_training)
    return completions
