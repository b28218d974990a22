"""Base models: a tiny GPT-2 with a tokenizer trained on the corpus, or a configured checkpoint.

The default must run offline in minutes on two CPU cores, so it is built from `GPT2Config` with a
byte-level BPE tokenizer learnt from the corpus itself: byte-level means no text is ever unknown
(a rare character falls back to its UTF-8 bytes, which matters for sentiment words that appear
only in labels or user prompts), and BPE merges give common Chinese characters and words one
token each while the vocabulary stays small. A Hugging Face id or a local directory is read only
when Settings name one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from pydantic import Field
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

EOS = "<|endoftext|>"
PAD = "<|pad|>"


class BaseModelError(ValueError):
    """The configured base model cannot be used."""


class TinyModelParams(dg.Config):
    """Shape of the from-config GPT-2 and its tokenizer (ignored when a base model is set)."""

    vocab_size: int = Field(default=1000, ge=300, description="BPE vocabulary incl. 256 bytes.")
    n_layer: int = Field(default=2, ge=1)
    n_embd: int = Field(default=64, ge=8)
    n_head: int = Field(default=2, ge=1)
    n_positions: int = Field(default=512, ge=32, description="Longest prompt + response.")


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE learnt from `texts`, wrapped for transformers with distinct EOS and PAD.

    Padding is on the left, as generation needs; TRL's SFT and reward collators pad on their own.
    PAD differs from EOS on purpose: TRL's reward and PPO code locate the end of a sequence by
    the first pad token, so a shared id would hide the EOS the reward model was trained to read.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=PAD,
        padding_side="left",
        model_max_length=1_000_000,
    )


def tiny_gpt2(tokenizer: PreTrainedTokenizerBase, params: TinyModelParams) -> GPT2LMHeadModel:
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=params.n_positions,
        n_embd=params.n_embd,
        n_layer=params.n_layer,
        n_head=params.n_head,
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
    name_or_path: str | None, texts: Iterable[str], params: TinyModelParams
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The configured checkpoint, or a fresh tiny GPT-2 whose tokenizer is learnt from `texts`."""
    if name_or_path:
        return load_pretrained(name_or_path)
    tokenizer = train_tokenizer(texts, params.vocab_size)
    return tiny_gpt2(tokenizer, params), tokenizer
