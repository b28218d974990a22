"""Person names in Taiwanese text: a surname list plus the context that says "this is a person".

A Chinese name has no capital letters and most given-name characters are ordinary words, so a
name is only taken where the text marks it as one: a role or relation before it (`承辦人`,
`聯絡人：`, `據里長`, `母親`), a title or honorific after it (`小姐`, `醫師`), or a speech verb
after it (`表示`, `說明`). Speech verbs also follow plain nouns (`許多人表示`, `高中生說`), so
there the candidate must not be an ordinary word in jieba's POS-tagged dictionary (the lexicon
of its tagger, run offline). Without such a cue, `高明` in `手法很高明` and `林立` in `高樓林立`
stay words. Once a name is found, every other occurrence in the document is a name too.

The statistical taggers were measured on generated sentences without cues (see
benchmarks/bench_pii.py): jieba's `nr` tag finds about two thirds of full names and also tags
`高明` and `林立` in their word senses; snownlp's People's Daily tagger splits Traditional names
into single characters. Neither is precise enough alone, so they only confirm or reject here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

import jieba
import jieba.posseg
import opencc

from eswi_assets.cleaning.pii_name_words import (
    COMPOUND_SURNAMES,
    ROLES,
    SINGLE_SURNAMES,
    STOP,
    TITLES,
    VERBS,
    WEAK_ROLES,
)

_HAN = "\u4e00-\u9fff"


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _with_simplified(words: Iterable[str]) -> list[str]:
    """Each word and its Simplified form, longest first so alternations prefer the longer cue."""
    variants = {w for word in words for w in (word, _t2s().convert(word))}
    return sorted(variants, key=lambda w: (-len(w), w))


def _alternation(words: Iterable[str]) -> str:
    return "|".join(map(re.escape, _with_simplified(words)))


_SURNAME_CHARS = "".join(sorted(set(_with_simplified(SINGLE_SURNAMES))))
_COMPOUNDS = frozenset(_with_simplified(COMPOUND_SURNAMES))
_STOPS = frozenset(STOP + _t2s().convert(STOP))
_GIVEN = rf"(?:(?![{re.escape(STOP)}{re.escape(_t2s().convert(STOP))}])[{_HAN}])"
_SURNAME = rf"(?:{_alternation(COMPOUND_SURNAMES)}|[{_SURNAME_CHARS}])"
_TITLE_RE = _alternation(TITLES)
_VERB_RE = _alternation(VERBS)
_HONORIFIC = re.compile(rf"(?:{_TITLE_RE})")
_NAME_END = re.compile(rf"(?:{_TITLE_RE}|{_VERB_RE})")

# A role, optional separator, then where a surname begins.
_ROLE_CUE = re.compile(rf"(?:{_alternation(ROLES)})[：:]?[ \u3000]?(?={_SURNAME})")
_WEAK_ROLE_CUE = re.compile(rf"(?:{_alternation(WEAK_ROLES)})[：:]?[ \u3000]?(?={_SURNAME})")
# Surname + one or two given characters, right before a title or a verb.
_BEFORE_TITLE = re.compile(rf"{_SURNAME}{_GIVEN}{{1,2}}?(?=(?:{_TITLE_RE}))")
_BEFORE_VERB = re.compile(rf"{_SURNAME}{_GIVEN}{{1,2}}?(?=(?:{_VERB_RE}))")
# Further names in a list after a found one: 承辦人王小明、陳美玲.
_LIST_NEXT = re.compile(rf"[、和與及跟][ \u3000]?({_SURNAME}{_GIVEN}{{2}})")


def _surname_length(text: str, start: int) -> int:
    return 2 if text[start : start + 2] in _COMPOUNDS else 1


def _given_char(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" and char not in _STOPS


def _name_after_role(text: str, start: int) -> int:
    """End of the name that starts at `start`, or `start` if what follows is no full name."""
    given = start + _surname_length(text, start)
    if not _given_char(text[given : given + 1]) or _HONORIFIC.match(text, given):
        return start  # 聯絡人陳先生: a surname and a title identify no one
    if _given_char(text[given + 1 : given + 2]) and not _NAME_END.match(text, given + 1):
        return given + 2
    return given + 1


# How often a two-character word must occur in jieba's dictionary to count as ordinary when it
# opens a candidate: `許多` (25601) and `高中` (4732) do, the `周家` of `周家豪` (298) does not.
_COMMON_WORD_FREQ = 1000


@cache
def _word_tag(word: str, min_freq: int) -> str | None:
    """jieba's tag for `word` as a dictionary word at least `min_freq` frequent, else None."""
    jieba.setLogLevel(60)
    jieba.dt.check_initialized()
    simplified = _t2s().convert(word)
    if jieba.dt.FREQ.get(simplified, 0) < max(min_freq, 1):
        return None
    return jieba.posseg.dt.word_tag_tab.get(simplified)


def _ordinary_word(text: str, start: int, end: int) -> bool:
    """`高中生` is a non-name word in jieba's dictionary; `許多人` opens with a common one and
    jieba's tagger, run on the clause around it, does not tag it `nr`. (The dictionary alone
    would also reject `王國強`, whose `王國` is a word; the tagger rescues it.)"""
    candidate = text[start:end]
    whole, opening = _word_tag(candidate, 1), _word_tag(candidate[:2], _COMMON_WORD_FREQ)
    if whole is not None and not whole.startswith("nr"):
        return True  # `高中生` is a word: the tagger's `nr` for it is not to be trusted
    if opening is None or opening.startswith("nr"):
        return False
    window = _t2s().convert(text[max(0, start - 6) : end + 4])
    target = _t2s().convert(candidate)
    return not any(
        pair.flag.startswith("nr") and target in pair.word for pair in jieba.posseg.lcut(window)
    )


def is_full_name(word: str) -> bool:
    """A surname from the list and a two-character given name, no title or particle in it."""
    length = _surname_length(word, 0)
    return (
        len(word) == length + 2 and (length == 2 or word[0] in _SURNAME_CHARS) and _plausible(word)
    )


def _plausible(name: str) -> bool:
    given = name[_surname_length(name, 0) :]
    return bool(given) and not _HONORIFIC.search(given) and not any(c in _STOPS for c in given)


def _cued_names(text: str) -> Iterator[tuple[int, int]]:
    for cue, strong in ((_ROLE_CUE, True), (_WEAK_ROLE_CUE, False)):
        for m in cue.finditer(text):
            end = _name_after_role(text, m.end())
            if end > m.end() and (strong or not _ordinary_word(text, m.end(), end)):
                yield m.end(), end
    for m in _BEFORE_TITLE.finditer(text):
        if _plausible(m.group()):
            yield m.start(), m.end()
    for m in _BEFORE_VERB.finditer(text):
        if _plausible(m.group()) and not _ordinary_word(text, m.start(), m.end()):
            yield m.start(), m.end()


def find_names(text: str) -> set[str]:
    """The person names the context marks in `text` (a width-folded text)."""
    names: set[str] = set()
    for start, end in _cued_names(text):
        names.add(text[start:end])
        for m in _LIST_NEXT.finditer(text, end, end + 12):
            if m.start() == end or m.start() == end + 1:
                names.add(m.group(1))
                end = m.end()
    return names


def name_spans(text: str, names: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """Every occurrence of each name, longest names first so `王小明` wins over `王小`."""
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        start = text.find(name)
        while start != -1:
            yield start, start + len(name), name
            start = text.find(name, start + len(name))
