"""Pattern finders of personal data, one per kind, run on width-folded text.

Each finder yields `Span`s of one kind; `DETECTORS` lists them most specific first, and
`pii.find_pii` keeps the first span that claims a stretch of text. Names are found apart
(`pii_names`), since they need a dictionary and the whole document.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers


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
# In running text an ID may be glued to ASCII words (`IDA123456789to`): only digits bound it.
_TW_ID_IN_TEXT = re.compile(r"(?<![0-9])[A-Za-z][1289A-Da-d][0-9]{8}(?![0-9])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9-])"
)
# Old-format resident IDs share the shape of receipt (uniform invoice) numbers, AB12345678.
_INVOICE_CONTEXT = re.compile(r"發票[^\n]{0,6}$")
# One random letter+9-digit code in ten passes the check digit: a product or order number
# labelled as such is no ID.
_CODE_CONTEXT = re.compile(
    r"(?:(?:訂單|商品|產品|物流|包裹|貨|單|型|序|品|批)(?:編)?[號号]|(?<![證证分一])編[號号]|料號)"
    r"[：: ]{0,2}$"
)

_CARD = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
# Issuer ranges and lengths: Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay.
_CARD_NUMBER = re.compile(
    r"4(?:[0-9]{12}|[0-9]{15}|[0-9]{18})"
    r"|(?:5[1-5][0-9]{2}|222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}"
    r"|3[47][0-9]{13}"
    r"|35[0-9]{14,17}"
    r"|3(?:0[0-5]|[689][0-9])[0-9]{11,16}"
    r"|6(?:011|4[4-9][0-9]|5[0-9]{2}|2[0-9]{2})[0-9]{12,15}"
)

# Trunk prefix 0 (or +886), area code, two groups, and at least one separator: a number
# written the way Taiwanese phone numbers are written, (04)213-0233 or 06-451-0648.
_PHONE_LAYOUT = re.compile(
    r"(?=.*[- ()])(?:\+886[- ]?|\(0|0)[0-9]{1,3}\)?[- ]?[0-9]{3,4}[- ]?[0-9]{3,4}"
)
# phonenumbers' matcher is the slowest detector: only texts with seven digits close together
# can hold a phone number, so only those are handed to it.
_PHONE_HINT = re.compile(r"[0-9](?:[- ()+]{0,2}[0-9]){6}")
_ALNUM = re.compile(r"[A-Za-z0-9]")

_HAN = r"[\u4e00-\u9fff]"
_CITY = (
    "(?:臺北|台北|新北|桃園|臺中|台中|臺南|台南|高雄|基隆|新竹|嘉義)[市巿]"
    "|(?:新竹|苗栗|彰化|南投|雲林|嘉義|屏東|宜蘭|花蓮|臺東|台東|澎湖|金門|連江)[縣县]"
)
# A road name: Han characters, but not the verbs and particles that come before an address
# (`住在`, `寄到`, `地址：`), so the placeholder does not swallow them.
_ROAD_CHAR = r"(?:(?![在住到寄送於于从從往是的址搬])[\u4e00-\u9fff])"
_NUMBER = r"(?:[0-9]+|[一二三四五六七八九十百]+)"
_ADDRESS = re.compile(
    rf"(?<![0-9])(?:[0-9]{{3}}(?:[0-9]{{2,3}})?[ \u3000]?)?"  # postal code (3, 3+2, 3+3)
    rf"(?:(?:{_CITY})(?:{_HAN}{{1,3}}?[區区鄉乡鎮镇市])?)?"  # city or county, district
    r"(?:"
    rf"{_ROAD_CHAR}{{1,8}}?(?:路|街|大道|巷)(?:{_NUMBER}段)?"  # road (+ section)
    rf"(?:{_NUMBER}巷)?(?:{_NUMBER}弄)?"  # lane, alley
    rf"|{_ROAD_CHAR}{{1,4}}?[村里](?:{_NUMBER}鄰|{_NUMBER}邻)"  # village and neighbourhood
    r")"
    r"[0-9]+(?:[-之][0-9]+)?[號号](?:之[0-9]+)?"  # house number
    rf"(?:{_NUMBER}(?:樓|楼|F|f)(?:之[0-9]+)?)?(?:[0-9]+室)?"  # floor, room
)

_SEP = r"[ \u3000]*(?:[:：]|是|為|为)?[ \u3000]*"
# Birth dates: ROC (民國75年3月2日, 75.03.02, 075/03/02) and Gregorian, tied to a person by a
# birth cue before the date, or `生`/`出生` right after it (but not 生效, 生產, ...).
_CN_DIGIT = "〇零一二三四五六七八九十"
_YEAR = rf"(?:(?:民國|民国|中華民國|西元)[ \u3000]?)?(?:[0-9]{{2,4}}|[{_CN_DIGIT}]{{2,4}})"
_DATE = (
    rf"(?<![0-9]){_YEAR}[ \u3000]?年[ \u3000]?(?:[0-9]{{1,2}}|[{_CN_DIGIT}]{{1,3}})"
    rf"[ \u3000]?月(?:[ \u3000]?(?:[0-9]{{1,2}}|[{_CN_DIGIT}]{{1,3}})[ \u3000]?[日號号])?"
    r"|(?<![0-9.])(?:(?:民國|民国)[ \u3000]?)?[0-9]{2,4}[./-][0-9]{1,2}[./-][0-9]{1,2}(?![0-9])"
    r"|(?<![0-9])[0-9]{1,2}[ \u3000]?月[ \u3000]?[0-9]{1,2}[ \u3000]?[日號号]"
)
_BIRTH_CUE = (
    r"(?:出生日期|出生年月日|出生於|出生于|生日|出生|生於|生于|誕生於|诞生于|生辰|"
    r"DOB|D\.O\.B\.|[Bb]irthday|[Bb]orn(?: on)?|[Dd]ate of [Bb]irth)"
)
_BIRTH_BEFORE = re.compile(
    rf"(?<![發发產产衛卫先學学])(?:{_BIRTH_CUE})(?:[^\n。！？；,，]{{0,6}}?)" + _SEP + rf"({_DATE})"
)
_BIRTH_AFTER = re.compile(rf"({_DATE})[ \u3000]?(?:出生|誕生|诞生|生(?![效產产意活氣气病命存日]))")

# Account, passport, plate and handle values need a cue word shortly before them: a digit
# string is someone's bank account only when the text says so.
_CUE_GAP = r"[^\n。！？；]{0,10}?"
_ACCOUNT = re.compile(
    r"(?:帳號|账号|帳戶|账户|戶頭|户头|存簿|劃撥|划拨|郵撥|邮拨|局號|局号|匯款|汇款|轉帳|转账|"
    r"轉入|转入|匯入|汇入|[Aa]ccount(?: [Nn]o\.?| [Nn]umber)?|ATM)"
    + _CUE_GAP
    + r"(?<![0-9A-Za-z])((?:\(?[0-9]{3}\)?[- ]?)?[0-9](?:[- ]?[0-9]){6,15})(?![0-9]|[ ]?[元塊块])"
)
_DATE_SHAPE = re.compile(r"(?:19|20)[0-9]{2}[-/.]?[01][0-9][-/.]?[0-3][0-9]")
_PASSPORT = re.compile(
    r"(?:護照|护照|[Pp]assport)" + _CUE_GAP + r"(?<![0-9A-Za-z])([A-Za-z]{0,2}[0-9]{7,9})"
    r"(?![0-9A-Za-z])"
)
_PLATE_VALUE = (
    r"(?<![0-9A-Za-z-])("
    r"[A-Za-z]{2,3}[-‐][0-9]{3,4}|[0-9]{3,4}[-‐][A-Za-z]{2,3}|[A-Za-z][0-9][-‐][0-9]{4}"
    r"|[0-9]{2}[-‐][A-Za-z0-9]{4}|[A-Za-z0-9]{2,3}[-‐][A-Za-z][0-9]{2,3}"
    r")(?![0-9A-Za-z-])"
)
_PLATE_CUED = re.compile(r"(?:車|车|牌|[Pp]late)" + _CUE_GAP + _PLATE_VALUE)
_PLATE_AFTER = re.compile(_PLATE_VALUE + r"[^\n。！？；]{0,6}?(?:車|车)")
# Modern car plates (three letters without I and O, four digits) need no cue, unless the text
# just before says it is a product's code (`型號 RTX-4090`).
_PLATE_MODERN = re.compile(r"(?<![0-9A-Za-z-])([A-HJ-NP-Z]{3}-[0-9]{4})(?![0-9A-Za-z-])")
_PRODUCT_CUE = re.compile(
    r"(?:型號|型号|規格|规格|產品|产品|品號|品号|料號|料号|貨號|货号|編號|编号|[Mm]odel|SKU|顯卡|显卡)"
    r"[^\n。！？；]{0,6}$"
)
_HANDLE = re.compile(
    r"(?:LINE|Line|line|賴|IG|Ig|ig|Instagram|instagram|FB|fb|Facebook|facebook|臉書|脸书|"
    r"推特|Twitter|twitter|Threads|threads|Telegram|telegram|TG|微信|WeChat|wechat|WeChat ID|"
    r"抖音|TikTok|tiktok|Discord|discord|Skype|skype|Snapchat|Dcard|噗浪|Plurk|YouTube|"
    r"小紅書|小红书|微博|QQ)"
    r"[ \u3000]*(?:ID|Id|id|帳號|账号|帳戶|账户|名稱|名称|暱稱|昵称|號碼|号码|搜尋|搜寻|"
    r"的ID|的id|的帳號|的账号)?" + r"[^\n。！？；，,A-Za-z0-9]{0,6}?"  # 推特@帳號是, 的ID是, ：
    r"(?<![A-Za-z0-9._@-])(@?[A-Za-z0-9][A-Za-z0-9._-]{1,29})(?![A-Za-z0-9._@-])"
)
# Words after `LINE` or `IG` that are products or features, not someone's handle.
_NOT_HANDLES = frozenset(
    [
        "pay",
        "bank",
        "tv",
        "music",
        "points",
        "today",
        "store",
        "shopping",
        "go",
        "taxi",
        "messenger",
        "live",
        "reels",
        "stories",
        "story",
        "post",
        "posts",
        "page",
        "group",
        "official",
        "app",
        "web",
        "id",
    ]
)


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    kind: str


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
    for m in _TW_ID_IN_TEXT.finditer(text):
        old_format = m.group()[1].isalpha()
        if old_format and _INVOICE_CONTEXT.search(text, max(0, m.start() - 8), m.start()):
            continue
        if _CODE_CONTEXT.search(text, max(0, m.start() - 6), m.start()):
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


def _has_digit(text: str) -> bool:
    return any(d in text for d in "0123456789")


# The slower patterns run only on texts that hold the one thing they cannot match without
# (a house-number 號, a birth cue, a dash): most sentences hold none, and cleaning throughput
# depends on skipping them.
def _addresses(text: str) -> Iterator[Span]:
    if ("號" not in text and "号" not in text) or not _has_digit(text):
        return
    for m in _ADDRESS.finditer(text):
        yield Span(m.start(), m.end(), "address")


def _phones(text: str) -> Iterator[Span]:
    """Numbers valid in Taiwan's numbering plan, plus possible ones written in phone layout:
    a number need not be assigned to be someone's contact, (04)213-0233 is still personal."""
    if not _PHONE_HINT.search(text):
        return
    for m in phonenumbers.PhoneNumberMatcher(text, "TW", leniency=phonenumbers.Leniency.VALID):
        yield Span(m.start, m.end, "phone")
    for m in phonenumbers.PhoneNumberMatcher(text, "TW", leniency=phonenumbers.Leniency.POSSIBLE):
        glued = _ALNUM.fullmatch(text[m.start - 1 : m.start] or " ") or _ALNUM.fullmatch(
            text[m.end : m.end + 1] or " "
        )
        if not glued and _PHONE_LAYOUT.fullmatch(m.raw_string):
            yield Span(m.start, m.end, "phone")


def _birth_dates(text: str) -> Iterator[Span]:
    if "生" not in text and "DOB" not in text and "irth" not in text and "orn" not in text:
        return
    for pattern in (_BIRTH_BEFORE, _BIRTH_AFTER):
        for m in pattern.finditer(text):
            yield Span(m.start(1), m.end(1), "birth_date")


def _accounts(text: str) -> Iterator[Span]:
    if not _has_digit(text):
        return
    for m in _ACCOUNT.finditer(text):
        if not _DATE_SHAPE.fullmatch(m.group(1)):
            yield Span(m.start(1), m.end(1), "account")


def _passports(text: str) -> Iterator[Span]:
    if not _has_digit(text):
        return
    for m in _PASSPORT.finditer(text):
        yield Span(m.start(1), m.end(1), "passport")


def _plates(text: str) -> Iterator[Span]:
    if ("-" not in text and "‐" not in text) or not _has_digit(text):
        return
    for pattern in (_PLATE_CUED, _PLATE_AFTER, _PLATE_MODERN):
        for m in pattern.finditer(text):
            value = m.group(1)
            before = text[max(0, m.start(1) - 12) : m.start(1)]
            if pattern is _PLATE_MODERN and _PRODUCT_CUE.search(before):
                continue
            if any(c.isalpha() for c in value) and any(c.isdigit() for c in value):
                yield Span(m.start(1), m.end(1), "plate")


def _handles(text: str) -> Iterator[Span]:
    for m in _HANDLE.finditer(text):
        if m.group(1).lstrip("@").lower() not in _NOT_HANDLES:
            yield Span(m.start(1), m.end(1), "handle")


# Most specific first: an e-mail or ID wins over a phone number found inside it, a value with a
# cue (passport, account) over the same digits read as a phone number.
DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails,
    _tw_ids,
    _cards,
    _handles,
    _passports,
    _accounts,
    _plates,
    _birth_dates,
    _addresses,
    _phones,
)


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII, every character at its index."""
    return text.translate(_FOLD)
