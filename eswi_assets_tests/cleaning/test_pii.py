"""PII becomes typed placeholders; look-alikes and everything around a match stay as written."""

from __future__ import annotations

import random

import pytest

from eswi_assets.cleaning.pii import PII_KINDS, find_pii, redact, redact_document
from eswi_assets.cleaning.pii_patterns import is_valid_tw_id, luhn_valid
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
    # names: a role before, a title or a speech verb after; glued and spaced
    ("承辦人王小明表示會盡快處理", "承辦人[NAME_1]表示會盡快處理"),
    ("請洽陳美玲小姐", "請洽[NAME_1]小姐"),
    ("聯絡人：林志強，晚上再打", "聯絡人：[NAME_1]，晚上再打"),
    ("據里長張文雄說明，道路下週修好", "據里長[NAME_1]說明，道路下週修好"),
    ("高明先生的包裹到了", "[NAME_1]先生的包裹到了"),
    ("歐陽娜娜老師請假", "[NAME_1]老師請假"),
    ("记者王小明／台北报导", "记者[NAME_1]／台北报导"),
    # birth dates tied to a person, ROC and Gregorian
    ("我是民國75年3月2日生的", "我是[BIRTH_DATE]生的"),
    ("生日：1986/03/02", "生日：[BIRTH_DATE]"),
    ("他出生於西元1990年12月1日", "他出生於[BIRTH_DATE]"),
    ("DOB:075.03.02", "DOB:[BIRTH_DATE]"),
    # addresses with and without city or district
    ("住在中壢松山街81號之9的居民", "住在[ADDRESS]的居民"),
    ("我搬到蘆洲新生路3號1樓了", "我搬到[ADDRESS]了"),
    ("寄到320桃園市中壢區中正路100號5樓", "寄到[ADDRESS]"),
    ("Address: 大仁巷557號", "Address: [ADDRESS]"),
    # accounts, passports, plates, handles: in context
    ("匯款帳號：012-345678901234，戶名請寫全名", "匯款帳號：[ACCOUNT]，戶名請寫全名"),
    ("郵局局號0001234帳號1234567", "郵局局號[ACCOUNT]帳號[ACCOUNT]"),
    ("護照號碼 312345678 ，效期到2030年", "護照號碼 [PASSPORT] ，效期到2030年"),
    ("passport:A12345678", "passport:[PASSPORT]"),
    ("車牌ABC-1234的車主請移車", "車牌[PLATE]的車主請移車"),
    ("一台3456-KL的白色轎車", "一台[PLATE]的白色轎車"),
    ("LINE ID：chen_wei88", "LINE ID：[HANDLE]"),
    ("IG帳號@lin.mei歡迎追蹤", "IG帳號[HANDLE]歡迎追蹤"),
    ("推特@帳號是ehung", "推特@帳號是[HANDLE]"),
    # full width and glued to ASCII
    ("護照號碼３１２３４５６７８", "護照號碼[PASSPORT]"),
    ("He gave IDA123456789to the clerk", "He gave ID[TW_ID]to the clerk"),
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_data_is_replaced_by_its_typed_placeholder(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert result.total == expected.count("[")


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
    "他的手法很高明",  # a name that is also a word, used as a word
    "高樓林立的市中心",
    "許多人表示不滿",
    "訂位請撥電話找王小姐",  # a surname and a title identify no one
    "本規定自民國113年1月1日生效",  # a date, not a birth date
    "這件事發生於2023年5月2日",
    "案號110年度訴字第1234號",
    "ISBN 978-986-123-456-7",
    "第3號選手從捷運2號出口出來",
    "用LINE Pay付款很方便",
    "匯款金額12000元",
    "商品編號A951253007缺貨",  # a product code that happens to pass the ID check digit
    "型號 RTX-4090 顯示卡",  # a plate-shaped product code
    "規格：ABC-1234 型",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_of_personal_data_are_left_alone(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.total == 0


def test_text_around_a_match_keeps_its_original_characters() -> None:
    text = "Ｈｉ，全形字與標點：請撥０９１２３４５６７８，ＯＫ！"
    assert redact(text).text == "Ｈｉ，全形字與標點：請撥[PHONE]，ＯＫ！"


def test_counts_are_per_kind_and_nothing_is_left_for_the_detectors() -> None:
    text = (
        "承辦人王小明A123456789，手機0912345678，公司(02)2345-6789，"
        "信箱wang@example.com，住臺北市大安區復興南路二段10號，卡號4111111111111111。"
    )
    expected = {
        **dict.fromkeys(PII_KINDS, 0),
        "name": 1,
        "tw_id": 1,
        "phone": 2,
        "email": 1,
        "address": 1,
        "card": 1,
    }
    result = redact(text)
    assert result.counts == expected
    assert find_pii(result.text) == []


def test_the_same_name_gets_the_same_number_across_a_documents_fields() -> None:
    title, body = redact_document(
        ["陳美玲的一天", "承辦人王小明說，陳美玲小姐昨天來過；王小明會再聯絡陳美玲。"]
    )
    assert title.text == "[NAME_1]的一天"
    assert body.text == "承辦人[NAME_2]說，[NAME_1]小姐昨天來過；[NAME_2]會再聯絡[NAME_1]。"


def test_names_in_a_list_after_a_role_are_all_replaced() -> None:
    assert redact("負責人王小明、陳美玲今天都在").text == "負責人[NAME_1]、[NAME_2]今天都在"


@pytest.mark.parametrize(
    "text",
    [
        "承辦人王小明表示" * 20_000,  # a huge document
        "Ｍｉｘｅｄ 文字 ＡＢＣ １２３ русский عربى 😀 承辦人王小明",
        "联络人：张伟，电话0912345678，护照号码312345678",  # Simplified
        "",
        "\x00\ufffd[NAME_1]",
    ],
)
def test_bad_input_is_redacted_without_crashing(text: str) -> None:
    result = redact(text)
    assert "王小明" not in result.text and "张伟" not in result.text
    assert "0912345678" not in result.text and "312345678" not in result.text


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
