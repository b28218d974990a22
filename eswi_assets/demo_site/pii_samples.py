"""Planted personal data and look-alikes: the exact strings a redactor must (not) replace.

Each sample comes with a carrier sentence. Half the carriers put the value directly between
Chinese characters with no space (請聯絡0912345678謝謝), the hard case for regex boundaries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from eswi_assets.demo_site.tw_id import make_invalid_tw_id, make_tw_id

PII_KINDS = ("tw_id", "mobile", "landline", "email", "address")

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

_CARRIERS: dict[str, tuple[str, str]] = {
    # (spaced, adjacent)
    "tw_id": ("我的身分證字號： {v} ，麻煩協助查詢", "我的身分證字號是{v}請幫我查一下"),
    "mobile": ("聯絡電話： {v} ，晚上都可以打", "有問題請聯絡{v}謝謝"),
    "landline": ("店家電話 {v} ，營業到晚上九點", "訂位請撥{v}找王小姐"),
    "email": ("來信請寄 {v} ，我會盡快回覆", "意見可以寄到{v}給我"),
    "address": ("收件地址： {v} ，請勿寄錯", "東西請寄到{v}給我"),
}

_LOOKALIKE_CARRIERS = {
    "order_id": "訂單編號{v}已經出貨",
    "order_number": "我的訂單編號是{v}，還沒收到",
    "date": "{v}下單",
    "price": "售價NT${v}元",
    "invalid_id": "書背上印著{v}這串號碼",
}

_NAMES = ("chen.wei", "lin_mei", "wang.hsiao", "huang88", "chang.yu", "tsai.ling", "reader")
_DOMAINS = ("example.com.tw", "example.com", "example.org", "mail.example.net")
_AREA_CODES = (("02", 8), ("03", 7), ("04", 7), ("05", 7), ("06", 7), ("07", 7))
_STREETS = (
    ("臺北市", "中正區", "重慶南路一段"),
    ("臺北市", "大安區", "復興南路二段"),
    ("新北市", "板橋區", "文化路一段"),
    ("臺中市", "西屯區", "臺灣大道三段"),
    ("臺南市", "東區", "大學路"),
    ("高雄市", "苓雅區", "四維三路"),
    ("桃園市", "中壢區", "中正路"),
    ("花蓮縣", "花蓮市", "中山路"),
)


@dataclass(frozen=True)
class Planted:
    """One planted string and the sentence that carries it."""

    kind: str
    value: str
    sentence: str


def _tw_id(rng: random.Random) -> str:
    return make_tw_id(rng, resident=rng.random() < 0.25)


def _mobile(rng: random.Random) -> str:
    a, b, c = rng.randrange(10, 100), rng.randrange(1000), rng.randrange(1000)
    style = rng.randrange(4)
    if style == 0:
        return f"09{a:02d}-{b:03d}-{c:03d}"
    if style == 1:
        return f"+886 9{a:02d} {b:03d} {c:03d}"
    if style == 2:
        return f"09{a:02d}{b:03d}{c:03d}".translate(_FULL_WIDTH)
    return f"09{a:02d}{b:03d}{c:03d}"


def _landline(rng: random.Random) -> str:
    area, digits = rng.choice(_AREA_CODES)
    number = f"{rng.randrange(2, 10)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    local = f"{number[:-4]}-{number[-4:]}"
    return f"({area}){local}" if rng.random() < 0.6 else f"{area}-{local}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_NAMES)}{rng.randrange(100)}@{rng.choice(_DOMAINS)}"


def _address(rng: random.Random) -> str:
    city, district, street = rng.choice(_STREETS)
    floor = f"{rng.randint(2, 12)}樓" if rng.random() < 0.4 else ""
    return f"{city}{district}{street}{rng.randint(1, 300)}號{floor}"


_MAKERS = {
    "tw_id": _tw_id,
    "mobile": _mobile,
    "landline": _landline,
    "email": _email,
    "address": _address,
}


def plant_pii(rng: random.Random, kind: str, *, adjacent: bool) -> Planted:
    """A fresh value of `kind` in its carrier sentence."""
    value = _MAKERS[kind](rng)
    return Planted(kind, value, _CARRIERS[kind][adjacent].format(v=value))


def _order_number(rng: random.Random) -> str:
    return _date(rng).replace("-", "") + f"{rng.randrange(1000):03d}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _price(rng: random.Random) -> str:
    return f"{rng.randint(1, 9)},{rng.randrange(0, 1000, 10):03d}"


_LOOKALIKE_MAKERS = {
    "order_id": make_invalid_tw_id,
    "order_number": _order_number,
    "date": _date,
    "price": _price,
    "invalid_id": make_invalid_tw_id,
}
LOOKALIKE_KINDS = tuple(_LOOKALIKE_MAKERS)


def plant_lookalike(rng: random.Random, kind: str) -> Planted:
    """A string that looks like PII but is not (order numbers, dates, prices, bad check digits)."""
    value = _LOOKALIKE_MAKERS[kind](rng)
    sentence = _LOOKALIKE_CARRIERS[kind].format(v=value)
    return Planted(kind, f"NT${value}" if kind == "price" else value, sentence)
