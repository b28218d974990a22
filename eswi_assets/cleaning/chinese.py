"""Script handling: convert to Traditional Chinese (Taiwan phrasing) and tell the scripts apart.

Language identification here is deliberately cheap: crawled pages are Chinese or not, and the
only finer question is Traditional vs Simplified, which OpenCC answers better than a generic
language-id model: a text in one script is changed by conversion *into* the other script.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

import opencc

Language = Literal["zh-Hant", "zh-Hans", "other"]

# CJK Unified Ideographs: the main block, extension A and extensions B-H (planes 2 and 3).
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_SPACE = re.compile(r"\s+")

# Below this share of ideographs a text is not Chinese prose (code, English, a link list).
MIN_CHINESE_SHARE = 0.3
# Japanese mixes ideographs with kana; a little kana (a quoted name) still reads as Chinese.
MAX_KANA_SHARE = 0.05


@cache
def _converter(config: str) -> opencc.OpenCC:
    """Building a converter loads its dictionaries, so each config is built once per process."""
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Simplified Chinese -> Traditional with Taiwan phrasing (软件 -> 軟體).

    For Simplified input only: on Traditional text the phrase tables change correct characters
    (傢伙 -> 傢夥), so callers convert what `detect_language` calls `zh-Hans`.
    """
    return _converter("s2twp").convert(text)


def cjk_share(text: str) -> float:
    """Share of CJK ideographs among the non-space characters (0.0 for an empty text)."""
    visible = len(_SPACE.sub("", text))
    return len(_CJK.findall(text)) / visible if visible else 0.0


def _changed(text: str, config: str) -> int:
    converted = _converter(config).convert(text)
    return sum(a != b for a, b in zip(text, converted, strict=False))


def detect_language(text: str) -> Language:
    """`zh-Hant`, `zh-Hans` or `other`.

    Traditional text is what Traditional->Simplified conversion changes most, and vice versa;
    a text neither conversion touches (common characters only) counts as Traditional.
    """
    visible = len(_SPACE.sub("", text))
    if not visible or cjk_share(text) < MIN_CHINESE_SHARE:
        return "other"
    if len(_KANA.findall(text)) / visible > MAX_KANA_SHARE:
        return "other"
    return "zh-Hans" if _changed(text, "s2t") > _changed(text, "t2s") else "zh-Hant"
