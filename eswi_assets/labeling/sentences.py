"""Sentences for annotators: `cleaned_corpus` bodies cut into sentences, each with a stable id, and
samples stratified by source that never offer a sentence twice.

The id is the sha1 of the sentence text, so the same sentence gets the same id wherever it comes
from (seed set, any crawl date); it travels to doccano in each example's `meta`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection

import pandas as pd

# A sentence runs up to its end mark (Chinese or Western, repeated: "！！", "……") plus any closing
# quotes or brackets; line breaks end a sentence too.
_SENTENCE = re.compile(r"[^。！？!?；;…\n]+[。！？!?；;…]*[」』”’）)]*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

MIN_CHARS = 8
MAX_CHARS = 160
MIN_CJK_SHARE = 0.5

SENTENCE_COLUMNS = ["sentence_id", "text", "doc_id", "source"]


def sentence_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def split_sentences(text: str) -> list[str]:
    """Sentences in order, stripped; empty pieces dropped."""
    return [s for s in (m.group().strip() for m in _SENTENCE.finditer(text)) if s]


def usable(sentence: str, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> bool:
    """Long enough to carry a sentiment, short enough to read at a glance, mostly Chinese."""
    return min_chars <= len(sentence) <= max_chars and len(
        _CJK.findall(sentence)
    ) >= MIN_CJK_SHARE * len(sentence)


def corpus_sentences(
    corpus: pd.DataFrame, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS
) -> pd.DataFrame:
    """One row per distinct usable sentence of the corpus bodies (first document wins)."""
    rows = [
        (sentence_id(s), s, doc_id, source)
        for doc_id, source, body in corpus[["doc_id", "source", "body"]].itertuples(index=False)
        for s in split_sentences(body or "")
        if usable(s, min_chars, max_chars)
    ]
    df = pd.DataFrame(rows, columns=SENTENCE_COLUMNS)
    return df.drop_duplicates("sentence_id", ignore_index=True)


def sample_for_labeling(
    sentences: pd.DataFrame, n: int, exclude: Collection[str] = (), seed: int = 0
) -> pd.DataFrame:
    """Up to `n` sentences not in `exclude`, shared out evenly across sources.

    Even shares (not shares proportional to size) so a large source cannot crowd out a small one;
    a source that runs out leaves its share to the others. Deterministic for a given `seed`.
    """
    fresh = sentences[~sentences["sentence_id"].isin(set(exclude))]
    if fresh.empty or n <= 0:
        return fresh.iloc[0:0].reset_index(drop=True)
    shuffled = fresh.sample(frac=1, random_state=seed)
    rank = shuffled.groupby("source").cumcount()
    order = shuffled.assign(_rank=rank).sort_values(["_rank", "source"], kind="stable")
    return order.head(n).drop(columns="_rank").reset_index(drop=True)
