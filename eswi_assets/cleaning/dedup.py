"""Exact and near-duplicate removal: a hash of the normalised body, then MinHash LSH.

Shingles are character 3-grams: Chinese has no spaces, and word tokenisers built for other
languages cut it wrongly. The first document of each duplicate group, in the order given,
is kept, so the result is deterministic when the caller passes a stable order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from datasketch import MinHash, MinHashLSH

_SPACE = re.compile(r"\s+")
SCHEME = "affine32"  # datasketch's default MinHash scheme, whose values fit the stored 32 bits


@dataclass(frozen=True)
class Duplicate:
    of: int
    kind: Literal["exact", "near"]
    similarity: float


@dataclass(frozen=True)
class DedupResult:
    """`kept` indexes the input in input order; every other index is in `duplicates`."""

    kept: list[int]
    duplicates: dict[int, Duplicate] = field(default_factory=dict)
    signatures: list[str] = field(default_factory=list)


def normalise(body: str) -> str:
    """What counts as the same text: width-folded, without whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", body))


def shingles(text: str, size: int = 3) -> list[bytes]:
    """Distinct character n-grams; a text shorter than `size` is its own single shingle."""
    if len(text) <= size:
        return [text.encode()]
    return [g.encode() for g in {text[i : i + size] for i in range(len(text) - size + 1)}]


def content_key(doc_id: str, body: str) -> str:
    """A document's identity and content in 16 hex digits: the same page crawled again with an
    unchanged body has the same key; an edited body or another URL has a new one."""
    return hashlib.sha1(f"{doc_id}\n{normalise(body)}".encode()).hexdigest()[:16]


def signature_hex(minhash: MinHash) -> str:
    """The MinHash values (32-bit each, big-endian) as one hex string, as stored in the corpus."""
    return minhash.hashvalues.astype(">u4").tobytes().hex()


def deduplicate(
    bodies: Sequence[str], *, threshold: float = 0.8, num_perm: int = 128, shingle: int = 3
) -> DedupResult:
    """Keep the first of each exact or near-duplicate group (estimated Jaccard >= threshold)."""
    texts = [normalise(body) for body in bodies]
    minhashes = MinHash.bulk([shingles(t, shingle) for t in texts], num_perm=num_perm)
    first_by_hash: dict[str, int] = {}
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept: list[int] = []
    duplicates: dict[int, Duplicate] = {}
    for index, (text, minhash) in enumerate(zip(texts, minhashes, strict=True)):
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in first_by_hash:
            duplicates[index] = Duplicate(first_by_hash[digest], "exact", 1.0)
            continue
        first_by_hash[digest] = index
        # LSH candidates are probable matches only; confirm with the Jaccard estimate.
        similar = [
            (other, score)
            for other in sorted(lsh.query(minhash))
            if (score := minhash.jaccard(minhashes[other])) >= threshold
        ]
        if similar:
            other, score = similar[0]
            duplicates[index] = Duplicate(other, "near", round(score, 4))
            continue
        lsh.insert(index, minhash)
        kept.append(index)
    return DedupResult(kept, duplicates, [signature_hex(m) for m in minhashes])


def minhash_from_hex(signature: str) -> MinHash:
    """The MinHash a `signature_hex` string was made from (the corpus's `minhash` column)."""
    values = np.frombuffer(bytes.fromhex(signature), dtype=">u4").astype(np.uint64)
    # The scheme MinHash.bulk used by default (32-bit values, as `signature_hex` stores them).
    return MinHash(num_perm=len(values), hashvalues=values, scheme=SCHEME)


def body_signatures(bodies: Sequence[str], *, num_perm: int = 128, shingle: int = 3) -> list[str]:
    """`signature_hex` of each body, as cleaning stores them."""
    texts = [normalise(body) for body in bodies]
    return [
        signature_hex(m)
        for m in MinHash.bulk([shingles(t, shingle) for t in texts], num_perm=num_perm)
    ]


def near_duplicate_clusters(signatures: Sequence[str], *, threshold: float = 0.8) -> list[int]:
    """For each signature, the index of the first one (in the order given) of its cluster of
    near-duplicates (estimated Jaccard >= threshold); a document unlike any before is its own."""
    minhashes = [minhash_from_hex(signature) for signature in signatures]
    if not minhashes:
        return []
    lsh = MinHashLSH(threshold=threshold, num_perm=len(minhashes[0].hashvalues))
    clusters: list[int] = []
    for index, minhash in enumerate(minhashes):
        similar = [
            other
            for other in sorted(lsh.query(minhash))
            if minhash.jaccard(minhashes[other]) >= threshold
        ]
        if similar:
            clusters.append(similar[0])
            continue
        lsh.insert(index, minhash)
        clusters.append(index)
    return clusters
