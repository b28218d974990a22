"""Labelled sentences for measuring PII recall: Faker's `zh_TW` values in contexts written here.

Every kind has its contexts split in two: `dev` (what the detectors were developed against) and
`holdout` (never looked at while tuning), each drawn with its own seed. A case counts as found
when none of its `must_go` strings is left in the redacted text: the full value, and for names
the given name, for addresses the road and house number (a leaked `松山街81號` is a leak even if
the city went). Values appear spaced, glued to Chinese, glued to ASCII and in full width.

Look-alikes are strings a redactor must leave unchanged: order, invoice and case numbers, prices,
dates, ISBNs, versions, model numbers, and names that are also words used as words.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from faker import Faker

SPLITS = ("dev", "holdout")
KINDS = (
    "tw_id",
    "phone",
    "email",
    "card",
    "account",
    "passport",
    "plate",
    "birth_date",
    "handle",
    "name",
    "address",
)
STRUCTURED = ("tw_id", "phone", "email", "card", "account", "passport", "plate", "birth_date")

_FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-@.",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－＠．",
)


@dataclass(frozen=True)
class Case:
    kind: str
    sentence: str
    must_go: tuple[str, ...]


# {v} is the value. Even positions are `dev`, odd positions `holdout`.
_CONTEXTS: dict[str, tuple[str, ...]] = {
    "tw_id": (
        "我的身分證字號是{v}請幫我查一下",
        "申請人身分證統一編號：{v}，資料已送出",
        "ID: {v} (請勿外流)",
        "補件時請附上身分證{v}影本",
        "居留證號碼{v}已經更新",
        "會員資料：身分證號 {v}、性別女",
        "He gave ID{v}to the clerk",
        "表格上寫著{v}這組證號",
        "統號{v}的民眾請到櫃台",
        "報案人證號為{v}。",
    ),
    "phone": (
        "有問題請聯絡{v}謝謝",
        "聯絡電話： {v} ，晚上都可以打",
        "tel:{v}",
        "訂位專線{v}，額滿為止",
        "手機{v}，請勿來電推銷",
        "如需協助，請撥打 {v} 與我們聯繫",
        "call me at {v} tonight",
        "市話{v}分機12",
        "電話：{v}（平日）",
        "我的號碼是{v}，有事打給我",
    ),
    "email": (
        "意見可以寄到{v}給我",
        "來信請寄 {v} ，我會盡快回覆",
        "E-mail：{v}",
        "履歷請寄至{v}並註明職缺",
        "mail:{v}",
        "聯絡信箱{v}（週末不回信）",
        "寄給{v}就可以了",
        "Contact {v} for details",
        "電子郵件 {v}",
        "請將收據寄到我的信箱{v}。",
    ),
    "card": (
        "卡號{v}請刷卡",
        "信用卡號碼： {v} ，有效期限12/28",
        "card no.{v}",
        "用{v}這張卡付款",
        "刷卡卡號{v}被盜刷了",
        "我的信用卡 {v} 已經掛失",
        "Card:{v}",
        "請確認卡號：{v}",
        "末段以外不要公開，像{v}這樣全寫出來很危險",
        "扣款卡片{v}",
    ),
    "account": (
        "匯款帳號：{v}，戶名請寫全名",
        "請轉帳到{v}，謝謝",
        "銀行帳戶 {v} 已凍結",
        "ATM轉入{v}後回報末五碼",
        "款項請匯入帳號{v}。",
        "郵局帳號{v}，戶名王小明",
        "account no. {v}",
        "退款會退到您的帳戶{v}",
        "存簿帳號為{v}",
        "劃撥帳號：{v}",
    ),
    "passport": (
        "護照號碼 {v} ，效期到2030年",
        "我的護照號碼是{v}請協助訂票",
        "Passport No.{v}",
        "旅客護照{v}已登錄",
        "護照號：{v}",
        "請填寫護照號碼（{v}）與英文姓名",
        "passport:{v}",
        "護照{v}遺失，已報案",
        "持護照 {v} 入境",
        "護照號碼為{v}。",
    ),
    "plate": (
        "車牌{v}的車主請移車",
        "肇事車輛車號 {v} ，已通知警方",
        "一台{v}的白色轎車停在門口",
        "車牌號碼：{v}",
        "車號{v}違規停車",
        "我的機車車牌是{v}",
        "plate {v}",
        "牌照{v}已過戶",
        "看到{v}這台車請通報",
        "目擊者記下車牌 {v} 。",
    ),
    "birth_date": (
        "我是{v}生的",
        "生日：{v}",
        "出生日期 {v} ，血型O型",
        "他出生於{v}，在台南長大",
        "DOB:{v}",
        "生日是{v}，請記得幫我慶生",
        "出生年月日：{v}",
        "{v}出生的孩子今年上小學",
        "病患生於{v}，有高血壓病史",
        "出生：{v}。",
    ),
    "handle": (
        "LINE ID：{v}",
        "加我LINE {v} 聊",
        "IG帳號{v}歡迎追蹤",
        "我的賴是{v}",
        "Instagram: {v}",
        "臉書搜尋{v}就找得到",
        "Telegram:{v}",
        "LINE：{v}，請註明來意",
        "微信號碼{v}",
        "推特@帳號是{v}",
    ),
    "name": (
        "承辦人{v}表示會盡快處理",
        "{v}小姐今天請假",
        "聯絡人：{v}",
        "據里長{v}說明，道路下週修好",
        "記者{v}／台北報導",
        "{v}醫師提醒民眾多喝水",
        "負責人{v}，電話另洽",
        "{v}先生的包裹到了",
        "收件人 {v} 已簽收",
        "{v}表示，這次活動很成功",
        "我叫{v}，今年三十歲",
        "{v}老師的課很有趣",
        "市長{v}出席記者會",
        "我母親{v}住院了",
        "{v}強調，安全第一",
        "店長{v}說下個月漲價",
    ),
    "address": (
        "東西請寄到{v}給我",
        "收件地址： {v} ，請勿寄錯",
        "住在{v}的居民請注意",
        "地址：{v}",
        "店面位於{v}，歡迎光臨",
        "寄件地址{v}。",
        "我搬到{v}了",
        "Address: {v}",
        "通訊處 {v}",
        "會場在{v}，請準時",
    ),
}

# Strings that are not personal data; `{}` are filled from the rng.
_LOOKALIKES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"訂單編號{r.randrange(10**10, 10**11)}已經出貨",
    lambda r: (
        f"我的訂單編號是2024{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randrange(1000):03d}"
    ),
    lambda r: f"發票號碼{r.choice('ABCDEFGH')}{r.choice('ABCDEFGH')}-{r.randrange(10**8):08d}",
    lambda r: f"統一編號{r.randrange(10**7, 10**8)}",
    lambda r: f"售價NT${r.randint(1, 9)},{r.randrange(0, 1000, 10):03d}元",
    lambda r: f"特價{r.randint(100, 99999)}元，限時優惠",
    lambda r: f"{r.randint(2020, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}下單",
    lambda r: f"活動日期：{r.randint(2020, 2025)}年{r.randint(1, 12)}月{r.randint(1, 28)}日",
    lambda r: f"本規定自民國{r.randint(100, 114)}年{r.randint(1, 12)}月{r.randint(1, 28)}日生效",
    lambda r: f"ISBN 978-986-{r.randrange(100, 999)}-{r.randrange(100, 999)}-{r.randrange(10)}",
    lambda r: f"ISBN：978{r.randrange(10**9, 10**10)}",
    lambda r: f"案號{r.randint(100, 113)}年度訴字第{r.randint(1, 3000)}號",
    lambda r: f"依民法第{r.randint(1, 1200)}條規定",
    lambda r: f"請更新到版本v{r.randint(1, 5)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
    lambda r: f"營業時間{r.randint(7, 11):02d}:00-{r.randint(17, 22)}:00",
    lambda r: f"搭{r.randint(1, 999)}路公車到第{r.randint(1, 9)}號出口",
    lambda r: f"第{r.randint(1, 99)}號選手上場",
    lambda r: f"請翻到第{r.randint(1, 400)}頁",
    lambda r: f"股票代號{r.randint(1101, 9999)}今天漲停",
    lambda r: f"氣溫{r.randint(10, 35)}度，濕度{r.randint(40, 99)}%",
    lambda r: f"追蹤碼{r.randrange(10**11, 10**12)}，物流處理中",
    lambda r: f"郵遞區號{r.randint(100, 983)}",
    lambda r: f"人口約{r.randint(1, 999)}萬{r.randint(1, 9999)}人",
    lambda r: f"編號{r.choice('ABCDEFGH')}{r.randrange(10**9):09d}的商品缺貨",
    lambda r: f"型號SX{r.randint(100, 999)}-{r.randint(10, 99)}的零件",
    lambda r: r.choice(["他的手法很高明", "這招真高明", "高明的醫術救了很多人"]),
    lambda r: r.choice(["高樓林立的市中心", "街上商店林立", "工廠林立的地區"]),
    lambda r: r.choice(["我去找王小姐拿資料", "林先生不在", "請洽陳小姐"]),
    lambda r: r.choice(["許多人表示不滿", "方面的問題很多", "大家都說好"]),
    lambda r: r.choice(["這件事發生於2023年5月", "產品生產日期2024/01/05", "衛生署公告"]),
    lambda r: r.choice(["用LINE Pay付款很方便", "IG限時動態很紅", "FB粉專有最新消息"]),
    lambda r: f"中山路{r.randint(1, 9)}段有很多餐廳",
    lambda r: "帳號密碼請勿外流，登入後改密碼",
    lambda r: f"匯款金額{r.randint(1000, 99999)}元",
)


def _phone(fake: Faker, rng: random.Random) -> str:
    while True:
        number = fake.phone_number()
        digits = "".join(c for c in number if c.isdigit())
        if (
            digits[:1] == "0"
            and digits[1:2] != "0"
            and phonenumbers.is_valid_number(phonenumbers.parse(digits, "TW"))
        ):
            return number if rng.random() < 0.5 else number.replace(" ", "-")


def _card(fake: Faker, rng: random.Random) -> str:
    kind = rng.choice(["visa16", "mastercard", "amex", "jcb16", "discover", "diners"])
    digits = fake.credit_card_number(card_type=kind)
    if rng.random() < 0.4 and len(digits) == 16:
        return " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    return digits


def _account(fake: Faker, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{rng.randrange(1, 999):03d}-{rng.randrange(10**11, 10**12)}"
    if style == 1:
        return f"({rng.randrange(1, 999):03d}){rng.randrange(10**9, 10**14)}"
    if style == 2:
        return f"{rng.randrange(10**6, 10**7):07d}-{rng.randrange(10**6, 10**7):07d}"
    return str(rng.randrange(10**9, 10**14))


def _passport(fake: Faker, rng: random.Random) -> str:
    return f"3{rng.randrange(10**8):08d}" if rng.random() < 0.5 else fake.passport_number()


def _birth_date(fake: Faker, rng: random.Random) -> str:
    day = fake.date_of_birth(minimum_age=1, maximum_age=95)
    roc = day.year - 1911
    return rng.choice(
        [
            f"民國{roc}年{day.month}月{day.day}日",
            f"{roc}年{day.month}月{day.day}日",
            f"{roc:03d}/{day.month:02d}/{day.day:02d}",
            f"{roc}.{day.month:02d}.{day.day:02d}",
            f"{day.year}年{day.month}月{day.day}日",
            f"{day.year}/{day.month:02d}/{day.day:02d}",
            f"{day.year}-{day.month:02d}-{day.day:02d}",
            f"西元{day.year}年{day.month}月{day.day}日",
        ]
    )


def _handle(fake: Faker, rng: random.Random) -> str:
    name = fake.user_name().replace("-", rng.choice("._"))
    return name + (str(rng.randrange(100)) if rng.random() < 0.5 else "")


def _address(fake: Faker, rng: random.Random) -> str:
    return fake.address() if rng.random() < 0.5 else fake.address().split(" ", 1)[1]


_MAKERS: dict[str, Callable[[Faker, random.Random], str]] = {
    "tw_id": lambda f, r: f.ssn() if r.random() < 0.8 else f.ssn().lower(),
    "phone": _phone,
    "email": lambda f, r: f.email() if r.random() < 0.5 else f.free_email(),
    "card": _card,
    "account": _account,
    "passport": _passport,
    "plate": lambda f, r: f.license_plate(),
    "birth_date": _birth_date,
    "handle": _handle,
    "name": lambda f, r: f.name(),
    "address": _address,
}


def _must_go(kind: str, value: str) -> tuple[str, ...]:
    if kind == "name":
        return (value, value[1:])
    if kind == "address":
        # What identifies the house: the part after the city or township, if any.
        core = value.split(" ", 1)[-1]
        for sep in ("市", "縣", "區", "鄉", "鎮"):
            core = core.split(sep, 1)[-1] if sep in core[:6] else core
        return (value, core)
    return (value,)


def cases(split: str, per_kind: int, seed: int = 0) -> Iterator[Case]:
    """`per_kind` labelled sentences per kind, from the contexts of `split`."""
    offset = SPLITS.index(split)
    fake = Faker("zh_TW")
    fake.seed_instance(seed * 2 + offset)
    rng = random.Random(seed * 2 + offset)
    for kind in KINDS:
        contexts = _CONTEXTS[kind][offset::2]
        for _ in range(per_kind):
            value = _MAKERS[kind](fake, rng)
            if kind not in ("name", "address") and rng.random() < 0.15:
                value = value.translate(_FULL_WIDTH)
            yield Case(kind, rng.choice(contexts).format(v=value), _must_go(kind, value))


def lookalikes(split: str, n: int, seed: int = 0) -> Iterator[str]:
    """`n` sentences with no personal data, alternating makers between the splits."""
    offset = SPLITS.index(split)
    rng = random.Random(1000 + seed * 2 + offset)
    for i in range(n):
        yield _LOOKALIKES[(2 * i + offset) % len(_LOOKALIKES)](rng)
