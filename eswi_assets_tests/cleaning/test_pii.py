"""PII becomes typed placeholders; look-alikes and everything around a match stay as written."""

from __future__ import annotations

import random

import pytest

from eswi_assets.cleaning.pii import PII_KINDS, is_valid_tw_id, luhn_valid, pii_residue, redact
from eswi_assets.demo_site import pii_samples

REDACTED = [
    # Taiwan IDs: national, resident new format (8/9), resident old format (A-D), odd writing
    ("我的身分證字號： A123456789 ，麻煩協助查詢", "我的身分證字號： [TW_ID] ，麻煩協助查詢"),
    ("我的身分證字號是A123456789請幫我查一下", "我的身分證字號是[TW_ID]請幫我查一下"),
    ("居留證號碼A800000014已更新", "居留證號碼[TW_ID]已更新"),
    ("舊式居留證AB12345677還能用嗎", "舊式居留證[TW_ID]還能用嗎"),
    ("證號a123456789寫成小寫", "證號[TW_ID]寫成小寫"),
    ("全形證號Ａ１２３４５６７８９也算", "全形證號[TW_ID]也算"),
    # phones: glued to Chinese, grouped, +886, full-width, landlines
    ("有問題請聯絡0912345678謝謝", "有問題請聯絡[PHONE]謝謝"),
    ("聯絡電話： 0912-345-678 ，晚上都可以打", "聯絡電話： [PHONE] ，晚上都可以打"),
    ("聯絡電話： +886 912 345 678 ，晚上都可以打", "聯絡電話： [PHONE] ，晚上都可以打"),
    ("請撥+886912345678謝謝", "請撥[PHONE]謝謝"),
    ("有問題請聯絡０９１２３４５６７８謝謝", "有問題請聯絡[PHONE]謝謝"),
    ("訂位請撥(02)2345-6789找王小姐", "訂位請撥[PHONE]找王小姐"),
    ("訂位請撥（０２）２３４５－６７８９找王小姐", "訂位請撥[PHONE]找王小姐"),
    ("店家電話 04-2213-0233 ，營業到晚上九點", "店家電話 [PHONE] ，營業到晚上九點"),
    ("店家電話 06-451-0648 ，號碼沒開放也要遮", "店家電話 [PHONE] ，號碼沒開放也要遮"),
    # e-mail
    ("意見可以寄到chen.wei12@example.com.tw給我", "意見可以寄到[EMAIL]給我"),
    ("來信請寄 lin_mei+news@mail.example.net ，我會回覆", "來信請寄 [EMAIL] ，我會回覆"),
    # street addresses
    ("東西請寄到臺北市中正區重慶南路一段122號5樓給我", "東西請寄到[ADDRESS]給我"),
    ("收件地址： 台中市西屯區臺灣大道三段99號 ，請勿寄錯", "收件地址： [ADDRESS] ，請勿寄錯"),
    ("住在新北市板橋區文化路一段25巷3弄7號之1", "住在[ADDRESS]"),
    ("寄到花蓮縣花蓮市中山路12號謝謝", "寄到[ADDRESS]謝謝"),
    # payment cards (Luhn-valid, issuer ranges)
    ("卡號4111 1111 1111 1111請刷卡", "卡號[CARD]請刷卡"),
    ("卡號5555-5555-5555-4444到期", "卡號[CARD]到期"),
    ("美國運通378282246310005已停用", "美國運通[CARD]已停用"),
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_data_is_replaced_by_its_typed_placeholder(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert result.total == 1


LOOKALIKES = [
    "訂單編號A123456780已經出貨",  # ID shape, wrong check digit
    "書背上印著Q233781925這串號碼",  # ID shape, wrong check digit
    "發票號碼AB12345677請保留",  # receipt number shaped like a valid old resident ID
    "我的訂單編號是20241105001，還沒收到",
    "訂單2024111867147已付款",  # 13 digits that pass Luhn but are no card
    "訂單編號P286012472已經出貨",  # digits that would be a landline without the letter
    "2024-11-05下單，2024/11/05出貨",
    "售價NT$1,280元，特價1,280元",
    "統一編號12345678，發票號碼AB-12345678",
    "請更新到版本v2.13.1或3.10.12",
    "卡號4111 1111 1111 1112是假的",  # fails Luhn
    "我住臺北市大安區很多年了",  # a district, not a street address
    "營業時間09:00-18:00，座位07 08 09 10",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_of_personal_data_are_left_alone(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.total == 0


def test_text_around_a_match_keeps_its_original_characters() -> None:
    text = "Ｈｉ，全形字與標點：請撥０９１２３４５６７８，ＯＫ！"
    assert redact(text).text == "Ｈｉ，全形字與標點：請撥[PHONE]，ＯＫ！"


def test_counts_are_per_kind_and_residue_finds_what_redaction_removes() -> None:
    text = (
        "王先生A123456789，手機0912345678，公司(02)2345-6789，"
        "信箱wang@example.com，住臺北市大安區復興南路二段10號，卡號4111111111111111。"
    )
    expected = {"tw_id": 1, "phone": 2, "email": 1, "address": 1, "card": 1}
    result = redact(text)
    assert result.counts == expected
    assert pii_residue(text) == expected
    assert pii_residue(result.text) == dict.fromkeys(PII_KINDS, 0)
    for placeholder in ("[TW_ID]", "[PHONE]", "[EMAIL]", "[ADDRESS]", "[CARD]"):
        assert placeholder in result.text


def test_id_check_digit_follows_the_official_weighting() -> None:
    assert is_valid_tw_id("A123456789")
    # Letter codes out of alphabetical order (I=34, O=35, W=32): O100000000 sums to 3+5*9+8 = 56.
    assert is_valid_tw_id("O100000004")
    assert not is_valid_tw_id("O100000000")
    # Old resident format: the second letter counts as the units digit of its code (B=11 -> 1).
    assert is_valid_tw_id("AB12345677")
    assert sum(is_valid_tw_id(f"A12345678{d}") for d in range(10)) == 1
    assert not is_valid_tw_id("A323456789")  # 3 is no sex/resident code


def test_luhn_accepts_real_test_card_numbers_only() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_everything_the_demo_site_plants_is_redacted_and_its_lookalikes_kept() -> None:
    rng = random.Random(11)
    for i in range(300):
        kind = pii_samples.PII_KINDS[i % len(pii_samples.PII_KINDS)]
        planted = pii_samples.plant_pii(rng, kind, adjacent=i % 2 == 1)
        result = redact(planted.sentence)
        assert planted.value not in result.text, planted.sentence
        assert result.total == 1, planted.sentence
    for i in range(300):
        kind = pii_samples.LOOKALIKE_KINDS[i % len(pii_samples.LOOKALIKE_KINDS)]
        lookalike = pii_samples.plant_lookalike(rng, kind)
        assert redact(lookalike.sentence).text == lookalike.sentence
