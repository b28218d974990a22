"""How good a text model is, in numbers a gate can hold it to.

- Held-out cross-entropy per *character* of the body given its prompt, next to a character
  unigram and bigram model fit on the same training bodies: a model that cannot beat counting
  character pairs has learnt nothing worth serving. Per character, not per token, so numbers stay
  comparable across tokenizers.
- Degeneracy of samples: broken characters (U+FFFD, UNK), distinct-2, and the share of 4-grams
  that repeat within a sample (a policy that loops on one phrase scores high).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

REPLACEMENT = "\ufffd"
END = "\x03"  # end of text, scored by the baselines as the model's EOS is


def broken_share(texts: Iterable[str], unknown: str = "[UNK]") -> float:
    """Share of characters that are U+FFFD or an unknown-token marker."""
    texts = list(texts)
    total = sum(len(t) for t in texts)
    broken = sum(t.count(REPLACEMENT) + len(unknown) * t.count(unknown) for t in texts)
    return broken / total if total else 0.0


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct character n-grams over all n-grams, pooled across `texts` (1.0: no repeats)."""
    grams = [t[i : i + n] for t in texts for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repeated_ngram_share(texts: Iterable[str], n: int = 4) -> float:
    """Mean share of a text's character n-grams that occur more than once in that same text."""
    shares = []
    for text in texts:
        grams = [text[i : i + n] for i in range(len(text) - n + 1)]
        if grams:
            counts = Counter(grams)
            shares.append(sum(c for c in counts.values() if c > 1) / len(grams))
    return float(np.mean(shares)) if shares else 0.0


def sample_quality(texts: Sequence[str], prefix: str = "") -> dict[str, float]:
    return {
        f"{prefix}broken_char_share": broken_share(texts),
        f"{prefix}distinct_2": distinct_n(texts, 2),
        f"{prefix}repeated_4gram_share": repeated_ngram_share(texts, 4),
        f"{prefix}length_chars": float(np.mean([len(t) for t in texts])) if texts else 0.0,
    }


class CharNgramBaseline:
    """Interpolated character unigram/bigram model with add-one smoothing over the characters
    seen plus one unseen class, in nats per character; the bar a neural model must clear."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.unigrams: Counter[str] = Counter()
        self.bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            text += END
            self.unigrams.update(text)
            self.bigrams.update(itertools.pairwise(text))
        self.total = sum(self.unigrams.values())
        self.types = len(self.unigrams) + 1

    def unigram_p(self, char: str) -> float:
        return (self.unigrams[char] + 1) / (self.total + self.types)

    def bigram_p(self, previous: str, char: str, weight: float = 0.7) -> float:
        context = self.unigrams[previous]
        seen = self.bigrams[(previous, char)] / context if context else 0.0
        return weight * seen + (1 - weight) * self.unigram_p(char)

    def cross_entropy(self, texts: Iterable[str], order: int) -> float:
        nats, count = 0.0, 0
        for text in texts:
            text += END
            for i, char in enumerate(text):
                first = order == 1 or i == 0
                p = self.unigram_p(char) if first else self.bigram_p(text[i - 1], char)
                nats -= math.log(p)
                count += 1
        return nats / count if count else float("nan")


@torch.no_grad()
def completion_cross_entropy_per_char(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    completions: Sequence[str],
    max_length: int = 512,
) -> float:
    """Nats per character of `completions` given their prompts (prompt tokens not scored; a body
    cut at `max_length` tokens is scored up to the cut, per character of what was scored)."""
    model.eval()
    nats, chars = 0.0, 0
    for prompt, completion in zip(prompts, completions, strict=True):
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        all_ids = [
            *tokenizer(completion, add_special_tokens=False)["input_ids"],
            tokenizer.eos_token_id,
        ]
        body_ids = all_ids[: max(1, max_length - len(prompt_ids))]
        ids = torch.tensor([prompt_ids + body_ids], device=model.device)
        logits = model(ids).logits[0, len(prompt_ids) - 1 : -1].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        targets = ids[0, len(prompt_ids) :]
        nats -= float(log_probs.gather(1, targets[:, None]).sum())
        # Characters scored: the body's share that fit (whatever the tokenizer), + 1 for EOS.
        kept = (len(body_ids) - (body_ids[-1] == tokenizer.eos_token_id)) / (len(all_ids) - 1)
        chars += len(completion) * kept + (body_ids[-1] == tokenizer.eos_token_id)
    return nats / chars if chars else float("nan")


@torch.no_grad()
def kl_per_token(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
) -> float:
    """Mean over response tokens of log p_policy - log p_reference on the policy's own samples
    (the Monte-Carlo estimate of KL(policy || reference) per token)."""
    policy.eval()
    reference.eval()
    total, tokens = 0.0, 0
    for prompt, response in zip(prompts, responses, strict=True):
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
        if not response_ids:
            continue
        ids = torch.tensor([prompt_ids + response_ids], device=policy.device)
        targets = ids[0, len(prompt_ids) :, None]
        sums = []
        for model in (policy, reference):
            logits = model(ids).logits[0, len(prompt_ids) - 1 : -1].float()
            sums.append(float(torch.log_softmax(logits, -1).gather(1, targets).sum()))
        total += sums[0] - sums[1]
        tokens += len(response_ids)
    return total / tokens if tokens else 0.0


def paired_bootstrap(
    before: Sequence[float],
    after: Sequence[float],
    groups: Sequence[str],
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean gain `after - before` and its bootstrap interval, resampling whole groups (prompts),
    since samples of one prompt are not independent."""
    diffs: dict[str, list[float]] = {}
    for group, b, a in zip(groups, before, after, strict=True):
        diffs.setdefault(group, []).append(a - b)
    per_group = np.array([np.mean(v) for v in diffs.values()])
    if per_group.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = rng.choice(per_group, size=(resamples, per_group.size)).mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(per_group.mean()), float(low), float(high)
