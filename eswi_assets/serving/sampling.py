"""One left-padded `model.generate` call for requests that each bring their own sampling settings.

`generate` takes one temperature, top-p and top-k for the whole batch, so grouping requests by
identical settings would split most batches into ones. Instead the settings become per-row
tensors: a logits processor applies each row's temperature, top-k and top-p (temperature 0 keeps
only the row's argmax, i.e. greedy), and a stopping criterion ends each row at its own
`max_new_tokens`. A greedy row thus gets the same tokens alone or in any batch.

Decoding is set here in full (`GenerationConfig`), never merged from the model's saved
`generation_config.json`, so the A/B variants differ only in their weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from eswi_assets.training.generation import writable_only


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int
    temperature: float
    top_p: float
    top_k: int

    @property
    def greedy(self) -> bool:
        """Keeps only the most likely token (temperature 0, or top-k 1)."""
        return self.temperature == 0 or self.top_k == 1

    @property
    def truncates(self) -> bool:
        """Samples from fewer than all tokens, so the scores need sorting."""
        return not self.greedy and (self.top_k > 0 or self.top_p < 1)


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int


class RowWiseSampling(LogitsProcessor):
    """Temperature, top-k (0 = off) and top-p per row; temperature 0 keeps the argmax only.

    Only the rows that truncate (top-k or top-p < 1, not greedy) are sorted: a sort of the whole
    vocabulary for every row was most of a decoding step's time, and greedy rows or plain
    temperature sampling need none."""

    def __init__(self, params: list[SamplingParams], device: torch.device) -> None:
        self.temperature = torch.tensor([p.temperature for p in params], device=device)
        self.top_k = torch.tensor([p.top_k for p in params], device=device)
        self.top_p = torch.tensor([p.top_p for p in params], device=device)
        self.greedy = torch.tensor([p.greedy for p in params], device=device)
        self.truncated = torch.tensor([p.truncates for p in params], device=device)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.float() / self.temperature.clamp(min=1e-5)[:, None]
        if self.greedy.any():
            argmax = scores.argmax(dim=-1, keepdim=True)
            rank = torch.arange(scores.shape[-1], device=scores.device)[None, :]
            other = self.greedy[:, None] & (rank != argmax)
            scores = scores.masked_fill(other, float("-inf"))
        if self.truncated.any():
            rows = self.truncated.nonzero().squeeze(1)
            scores[rows] = _truncate(scores[rows], self.top_k[rows], self.top_p[rows])
        return scores


def _truncate(scores: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Each row's top-k and top-p (of the temperature-scaled scores); the most likely stays."""
    sorted_scores, order = scores.sort(dim=-1, descending=True)
    rank = torch.arange(scores.shape[-1], device=scores.device)[None, :]
    probs = sorted_scores.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    k = torch.where(top_k > 0, top_k, scores.shape[-1])[:, None]
    drop = (rank >= k) | (mass_before > top_p[:, None])
    drop[:, 0] = False
    return scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))


class RowWiseMaxNewTokens(StoppingCriteria):
    def __init__(self, prompt_length: int, params: list[SamplingParams], device: torch.device):
        self.prompt_length = prompt_length
        self.limits = torch.tensor([p.max_new_tokens for p in params], device=device)

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        return (input_ids.shape[1] - self.prompt_length) >= self.limits


def prompt_length(tokenizer: PreTrainedTokenizerBase, prompt: str) -> int:
    return len(tokenizer(prompt)["input_ids"])


@torch.inference_mode()
def generate_batch(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    params: list[SamplingParams],
) -> list[Completion]:
    """Completions in the order of `prompts` (prompt removed, special tokens dropped)."""
    batch = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
    width = batch["input_ids"].shape[1]
    decoding = GenerationConfig(
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        max_new_tokens=max(p.max_new_tokens for p in params),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        suppress_tokens=writable_only(tokenizer),
    )
    output = model.generate(
        **batch,
        generation_config=decoding,
        logits_processor=LogitsProcessorList([RowWiseSampling(params, model.device)]),
        stopping_criteria=StoppingCriteriaList([RowWiseMaxNewTokens(width, params, model.device)]),
    )
    special = torch.tensor(tokenizer.all_special_ids, device=output.device)
    completions = []
    for row, mask, p in zip(output, batch["attention_mask"], params, strict=True):
        new = row[width : width + p.max_new_tokens]
        completions.append(
            Completion(
                text=tokenizer.decode(new, skip_special_tokens=True),
                prompt_tokens=int(mask.sum()),
                completion_tokens=int((~torch.isin(new, special)).sum()),
            )
        )
    return completions
