"""Base models: a GPT-2 built from config over a character tokenizer, or a configured checkpoint.

`base_model` (the asset) pretrains the from-config model on shipped news and review text
(`training.pretrain`); this module holds the pieces: the model shape, the tokenizer (one token
per character, `training.tokenizer`) and loading of a Hugging Face id or local directory, read
only when Settings name one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from eswi_assets.training.tokenizer import EOS, PAD, train_character_tokenizer


class BaseModelError(ValueError):
    """The configured base model cannot be used."""


@dataclass(frozen=True)
class ModelShape:
    """Shape of a from-config GPT-2 and its character tokenizer (`vocab_size`: the most
    frequent characters kept; `n_positions`: the longest prompt + response)."""

    vocab_size: int = 4000
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 2
    n_positions: int = 512


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """One token per character of `texts`, the `vocab_size` most frequent kept."""
    return train_character_tokenizer(texts, max_size=vocab_size)


def tiny_gpt2(tokenizer: PreTrainedTokenizerBase, shape: ModelShape) -> GPT2LMHeadModel:
    if shape.n_embd % shape.n_head:
        raise BaseModelError(f"n_embd {shape.n_embd} is not a multiple of n_head {shape.n_head}")
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=shape.n_positions,
        n_embd=shape.n_embd,
        n_layer=shape.n_layer,
        n_head=shape.n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


def load_pretrained(name_or_path: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A configured causal LM; gives it an EOS and a separate PAD if its tokenizer lacks them.

    BERT-style Chinese tokenizers (e.g. `ckiplab/gpt2-base-chinese`) have `[SEP]` but no EOS.
    """
    looks_local = name_or_path.startswith((".", "/", "~")) or Path(name_or_path).exists()
    path = Path(name_or_path).expanduser()
    if looks_local and not path.is_dir():
        raise BaseModelError(f"base model directory {path} does not exist (ESWI_BASE_MODEL)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path) if looks_local else name_or_path)
        model = AutoModelForCausalLM.from_pretrained(str(path) if looks_local else name_or_path)
    except OSError as error:
        raise BaseModelError(f"cannot load base model {name_or_path!r}: {error}") from error
    tokenizer.padding_side = "left"
    if tokenizer.eos_token is None:
        tokenizer.eos_token = tokenizer.sep_token or EOS
    if tokenizer.pad_token is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        tokenizer.add_special_tokens({"pad_token": PAD})
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    model.config.eos_token_id = model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def base_model(
    name_or_path: str | None, texts: Iterable[str], shape: ModelShape
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The configured checkpoint, or a fresh tiny GPT-2 whose tokenizer is learnt from `texts`."""
    if name_or_path:
        return load_pretrained(name_or_path)
    tokenizer = train_tokenizer(texts, shape.vocab_size)
    return tiny_gpt2(tokenizer, shape), tokenizer
