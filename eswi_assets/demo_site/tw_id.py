"""Taiwan national / resident ID numbers: the check-digit rule, to plant valid and invalid ones."""

from __future__ import annotations

import random
import re

# The letter stands for the place of first registration; the rule weighs its two-digit code.
LETTER_CODES: dict[str, int] = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
_SHAPE = re.compile(r"[A-Z][1289]\d{8}")


def _checksum(id_number: str) -> int:
    code = LETTER_CODES[id_number[0]]
    digits = [code // 10, code % 10, *map(int, id_number[1:])]
    return sum(w * d for w, d in zip(_WEIGHTS, digits, strict=True)) % 10


def is_valid_tw_id(id_number: str) -> bool:
    """True for a national ID (A123456789) or 2021-format resident ID whose check digit fits."""
    return bool(_SHAPE.fullmatch(id_number)) and _checksum(id_number) == 0


def make_tw_id(rng: random.Random, *, resident: bool = False) -> str:
    """A random ID with a valid check digit; `resident` gives the 2021 resident format (8/9)."""
    letter = rng.choice(sorted(LETTER_CODES))
    second = rng.choice("89" if resident else "12")
    stem = f"{letter}{second}{rng.randrange(10**7):07d}"
    return stem + str((10 - _checksum(stem + "0")) % 10)


def make_invalid_tw_id(rng: random.Random) -> str:
    """Shaped like a national ID but with a wrong check digit: must not be redacted as one."""
    valid = make_tw_id(rng)
    return valid[:-1] + str((int(valid[-1]) + rng.randint(1, 9)) % 10)
