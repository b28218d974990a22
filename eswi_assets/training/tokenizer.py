"""A character-level tokenizer: one token per character (CJK, punctuation, ASCII, whitespace).

Byte-level BPE let a sampled token end in the middle of a UTF-8 character, so decoded text was
full of U+FFFD; with one token per character no output can hold a broken character, and decoding
is plain concatenation. This is the vocabulary family of `ckiplab/gpt2-base-chinese` (one entry
per character) but, unlike a BERT tokenizer, it keeps whitespace and decodes without inserting
spaces between CJK characters, so `decode(encode(text)) == text` for every in-vocabulary text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

EOS = "[EOS]"
PAD = "[PAD]"
UNK = "[UNK]"
SPECIAL_TOKENS = (PAD, EOS, UNK)


def character_vocabulary(texts: Iterable[str], min_count: int = 1, max_size: int = 8000) -> list:
    """Characters seen at least `min_count` times, most frequent first, at most `max_size`."""
    counts = Counter(char for text in texts for char in text)
    kept = [c for c, n in counts.most_common() if n >= min_count and c not in SPECIAL_TOKENS]
    return kept[: max_size - len(SPECIAL_TOKENS)]


def character_tokenizer(characters: Iterable[str]) -> PreTrainedTokenizerFast:
    """A transformers tokenizer over `characters`; anything else becomes UNK.

    Padding is on the left, as generation needs. PAD differs from EOS on purpose: TRL's reward
    and PPO code find the end of a sequence by the first pad token.
    """
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for char in characters:
        vocab.setdefault(char, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="left",
        model_max_length=1_000_000,
        clean_up_tokenization_spaces=False,
    )


def train_character_tokenizer(texts: Iterable[str], min_count: int = 1, max_size: int = 8000):
    return character_tokenizer(character_vocabulary(texts, min_count, max_size))


def unknown_share(tokenizer: PreTrainedTokenizerFast, texts: Iterable[str]) -> float:
    """Share of characters in `texts` the vocabulary lacks."""
    ids = [i for t in texts for i in tokenizer(t, add_special_tokens=False)["input_ids"]]
    return sum(i == tokenizer.unk_token_id for i in ids) / len(ids) if ids else 0.0


def missing_characters(
    tokenizer: PreTrainedTokenizerFast, texts: Iterable[str], min_count: int = 2
) -> list[str]:
    """Characters of `texts` (seen at least `min_count` times) the vocabulary lacks: what a
    model fine-tuned on `texts` could otherwise only write as UNK."""
    vocab = tokenizer.get_vocab()
    return [c for c in character_vocabulary(texts, min_count) if c not in vocab and c.strip()]
