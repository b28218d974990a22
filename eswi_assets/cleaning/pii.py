"""Find and replace personal data: Taiwan IDs, phone numbers, e-mails, street addresses, cards.

Every detector validates what it matches (check digit, Luhn, phonenumbers' numbering plan, an
address that ends in a house number), so order numbers, dates, prices and invoice numbers that
merely look like PII stay. Detection runs on a width-folded copy of the text (full-width
`０９１２` reads as `0912`), but replacement happens in the original text, which is otherwise
left untouched.

Python's `\\b` does not separate Chinese from ASCII (both are `\\w`), so every pattern states its
boundaries with explicit look-arounds: `請聯絡0912345678謝謝` must still be found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers

PLACEHOLDERS: dict[str, str] = {
    "tw_id": "[TW_ID]",
    "phone": "[PHONE]",
    "email": "[EMAIL]",
    "address": "[ADDRESS]",
    "card": "[CARD]",
}
PII_KINDS = tuple(PLACEHOLDERS)


def _one_to_one_nfkc() -> dict[int, str]:
    """NFKC mappings that keep length (full-width forms, ideographic space, ...).

    Folding with only these keeps every character at its index, so a match in the folded text
    is the same span in the original. Expanding mappings (`½` -> `1⁄2`) never carry PII.
    """
    table = {}
    for code in range(0x10000):
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded != chr(code):
            table[code] = folded
    return table


_FOLD = _one_to_one_nfkc()

# Place-of-registration letter -> two-digit code of the official check-digit rule.
_LETTER_CODES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_ID_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)

# National ID (1/2), resident certificate new format (8/9, since 2021) and old format (A-D).
_TW_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][1289A-Da-d][0-9]{8}(?![A-Za-z0-9])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9-])"
)
# Old-format resident IDs share the shape of receipt (uniform invoice) numbers, AB12345678.
_INVOICE_CONTEXT = re.compile(r"發票[^\n]{0,6}$")

_CARD = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
# Issuer ranges and lengths: Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay.
_CARD_NUMBER = re.compile(
    r"4(?:[0-9]{12}|[0-9]{15}|[0-9]{18})"
    r"|(?:5[1-5][0-9]{2}|222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}"
    r"|3[47][0-9]{13}"
    r"|35(?:2[89]|[3-8][0-9])[0-9]{12,15}"
    r"|3(?:0[0-5]|[689][0-9])[0-9]{11,16}"
    r"|6(?:011|4[4-9][0-9]|5[0-9]{2}|2[0-9]{2})[0-9]{12,15}"
)

# Trunk prefix 0 (or +886), area code, two groups, and at least one separator: a number
# written the way Taiwanese phone numbers are written, (04)213-0233 or 06-451-0648.
_PHONE_LAYOUT = re.compile(
    r"(?=.*[- ()])(?:\+886[- ]?|\(0|0)[0-9]{1,3}\)?[- ]?[0-9]{3,4}[- ]?[0-9]{3,4}"
)
_ALNUM = re.compile(r"[A-Za-z0-9]")

_CITY = (
    "(?:臺北|台北|新北|桃園|臺中|台中|臺南|台南|高雄|基隆|新竹|嘉義)市"
    "|(?:新竹|苗栗|彰化|南投|雲林|嘉義|屏東|宜蘭|花蓮|臺東|台東|澎湖|金門|連江)縣"
)
_HAN = r"[\u4e00-\u9fff]"
_ADDRESS = re.compile(
    rf"(?:[0-9]{{3,6}})?(?:{_CITY})"  # postal code, city or county
    rf"(?:{_HAN}{{1,3}}?[區鄉鎮市])?"  # district / township
    rf"(?:{_HAN}{{1,3}}?[村里])?(?:[0-9]+鄰)?"  # village, neighbourhood
    rf"{_HAN}{{1,6}}?(?:路|街|大道)(?:[一二三四五六七八九十]+段|[0-9]+段)?"  # road (+ section)
    r"(?:[0-9]+巷)?(?:[0-9]+弄)?[0-9]+(?:之[0-9]+)?號(?:之[0-9]+)?"  # lane, alley, number
    r"(?:[0-9]+(?:樓|F)(?:之[0-9]+)?)?(?:[0-9]+室)?"  # floor, room
)


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redaction:
    """The redacted text and how many placeholders of each kind went in."""

    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def is_valid_tw_id(value: str) -> bool:
    """Official check-digit rule for national IDs and both resident-certificate formats.

    The letter becomes its two-digit code; an old-format resident second letter (A-D) counts
    as the units digit of its own code (A=0 ... D=3). Weights 1,9,8,...,1,1; the sum must be
    divisible by 10.
    """
    value = value.upper()
    if not _TW_ID.fullmatch(value):
        return False
    code = _LETTER_CODES[value[0]]
    second = value[1]
    second_digit = _LETTER_CODES[second] % 10 if second.isalpha() else int(second)
    digits = [code // 10, code % 10, second_digit, *map(int, value[2:])]
    return sum(w * d for w, d in zip(_ID_WEIGHTS, digits, strict=True)) % 10 == 0


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a digit string (payment card numbers)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _tw_ids(text: str) -> Iterator[Span]:
    for m in _TW_ID.finditer(text):
        old_format = m.group()[1].isalpha()
        if old_format and _INVOICE_CONTEXT.search(text, max(0, m.start() - 8), m.start()):
            continue
        if is_valid_tw_id(m.group()):
            yield Span(m.start(), m.end(), "tw_id")


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "email")


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if _CARD_NUMBER.fullmatch(digits) and luhn_valid(digits):
            yield Span(m.start(), m.end(), "card")


def _addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS.finditer(text):
        yield Span(m.start(), m.end(), "address")


def _phones(text: str) -> Iterator[Span]:
    """Numbers valid in Taiwan's numbering plan, plus possible ones written in phone layout:
    a number need not be assigned to be someone's contact, (04)213-0233 is still personal."""
    for m in phonenumbers.PhoneNumberMatcher(text, "TW", leniency=phonenumbers.Leniency.VALID):
        yield Span(m.start, m.end, "phone")
    for m in phonenumbers.PhoneNumberMatcher(text, "TW", leniency=phonenumbers.Leniency.POSSIBLE):
        glued = _ALNUM.fullmatch(text[m.start - 1 : m.start] or " ") or _ALNUM.fullmatch(
            text[m.end : m.end + 1] or " "
        )
        if not glued and _PHONE_LAYOUT.fullmatch(m.raw_string):
            yield Span(m.start, m.end, "phone")


# Most specific first: an e-mail or ID wins over a phone number found inside it.
_DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails,
    _tw_ids,
    _cards,
    _addresses,
    _phones,
)


def find_pii(text: str) -> list[Span]:
    """Non-overlapping PII spans in `text`, in text order."""
    folded = text.translate(_FOLD)
    taken: list[Span] = []
    for detect in _DETECTORS:
        for span in detect(folded):
            if all(span.end <= t.start or span.start >= t.end for t in taken):
                taken.append(span)
    return sorted(taken)


def _count(spans: list[Span]) -> dict[str, int]:
    counts = dict.fromkeys(PII_KINDS, 0)
    for span in spans:
        counts[span.kind] += 1
    return counts


def redact(text: str) -> Redaction:
    """Replace each PII span with its typed placeholder (`[PHONE]`, `[TW_ID]`, ...)."""
    spans = find_pii(text)
    pieces, cursor = [], 0
    for span in spans:
        pieces += [text[cursor : span.start], PLACEHOLDERS[span.kind]]
        cursor = span.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), _count(spans))


def pii_residue(text: str) -> dict[str, int]:
    """PII still present, per kind: the same detectors as `redact`, for the blocking check."""
    return _count(find_pii(text))
