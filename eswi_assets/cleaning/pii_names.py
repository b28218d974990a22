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

# The most frequent Taiwanese surnames (Ministry of the Interior ranking), compound ones apart.
_SINGLE_SURNAMES = (
    "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊江呂何蕭羅高潘簡朱鍾游彭詹施胡沈余盧梁"
    "趙顏柯翁魏孫戴范方宋鄧杜侯傅曹薛阮丁卓馬溫董藍古石紀唐蔣姚連歐馮程湯田康姜白汪尤鄒黎巫"
    "鐘涂龔嚴韓袁金童陸柳凃夏邵錢伍倪駱譚于甘熊任秦章毛官顧史萬俞粘雷饒闕凌武孔尹崔辛辜陶段"
    "易龍韋池葛褚孟麥殷莫文賀賈管關包向丘梅華裴利全樊房佘花安左魯塗穆鮑蒲郝谷成邢練閻鄔陽盛"
    "常符耿解繆申聶祝岳曲籃齊應舒單喬畢留鄞翟牛龐覃温黄"
)
_COMPOUND_SURNAMES = (
    "張簡",
    "歐陽",
    "范姜",
    "司馬",
    "諸葛",
    "上官",
    "司徒",
    "皇甫",
    "東方",
    "令狐",
    "周黃",
    "張廖",
    "陳黃",
)

# Words before a name: roles, offices, relations, "my name is".
_ROLES = [
    "承辦人",
    "承辦員",
    "承辦",
    "聯絡人",
    "聯繫人",
    "連絡人",
    "負責人",
    "收件人",
    "寄件人",
    "收貨人",
    "申請人",
    "代理人",
    "代表人",
    "監護人",
    "委託人",
    "當事人",
    "發起人",
    "創辦人",
    "主持人",
    "發言人",
    "報案人",
    "檢舉人",
    "受款人",
    "戶名",
    "姓名",
    "名字",
    "本人",
    "里長",
    "村長",
    "鄰長",
    "議員",
    "立委",
    "委員",
    "市長",
    "縣長",
    "鄉長",
    "鎮長",
    "區長",
    "局長",
    "處長",
    "科長",
    "課長",
    "股長",
    "主任",
    "校長",
    "老師",
    "教師",
    "導師",
    "教授",
    "醫師",
    "醫生",
    "護理師",
    "藥師",
    "律師",
    "會計師",
    "記者",
    "經理",
    "副理",
    "協理",
    "董事長",
    "總經理",
    "執行長",
    "店長",
    "組長",
    "班長",
    "隊長",
    "警員",
    "員警",
    "警官",
    "所長",
    "院長",
    "部長",
    "署長",
    "理事長",
    "總幹事",
    "社長",
    "主委",
    "法官",
    "檢察官",
    "被告",
    "原告",
    "嫌犯",
    "嫌疑人",
    "死者",
    "傷者",
    "患者",
    "病患",
    "學生",
    "同學",
    "志工",
    "作者",
    "撰文",
    "攝影",
    "編輯",
    "譯者",
    "導演",
    "演員",
    "歌手",
    "選手",
    "教練",
    "家長",
    "屋主",
    "房東",
    "房客",
    "車主",
    "業主",
    "店主",
    "老闆娘",
    "老闆",
    "司機",
    "員工",
    "職員",
    "專員",
    "秘書",
    "助理",
    "窗口",
    "父親",
    "母親",
    "爸爸",
    "媽媽",
    "兒子",
    "女兒",
    "丈夫",
    "妻子",
    "太太",
    "先生",
    "阿公",
    "阿嬤",
    "爺爺",
    "奶奶",
    "外婆",
    "外公",
    "哥哥",
    "姊姊",
    "姐姐",
    "弟弟",
    "妹妹",
    "孫子",
    "孫女",
    "男友",
    "女友",
    "朋友",
    "網友",
    "民眾",
    "居民",
    "住戶",
    "會員",
    "客戶",
    "顧客",
    "病人",
    "得主",
    "校友",
    "署名",
    "簽名",
    "簽收",
]
# Words before a name that also come before plain nouns (`叫做高麗菜`): their candidates must
# pass the tagger. (`我是` is left out: jieba tags `我是高中生`'s `高中生` as a name.)
_WEAK_ROLES = ["我叫", "叫做", "名叫", "本名", "原名"]
# Titles and honorifics after a name.
_TITLES = [
    "先生",
    "小姐",
    "女士",
    "太太",
    "同學",
    "老師",
    "醫師",
    "醫生",
    "律師",
    "教授",
    "主任",
    "經理",
    "里長",
    "村長",
    "議員",
    "立委",
    "委員",
    "博士",
    "師傅",
    "阿姨",
    "伯伯",
    "校長",
    "院長",
    "董事長",
    "總經理",
    "執行長",
    "店長",
    "組長",
    "隊長",
    "警員",
    "所長",
    "局長",
    "處長",
    "科長",
    "主委",
    "法官",
    "檢察官",
    "記者",
    "會計師",
    "護理師",
    "藥師",
    "教練",
    "社長",
    "理事長",
    "總幹事",
    "君",
]
# Verbs that follow the person who speaks or acts.
_VERBS = [
    "表示",
    "指出",
    "說明",
    "強調",
    "透露",
    "坦言",
    "認為",
    "提到",
    "回應",
    "解釋",
    "告訴",
    "受訪",
    "坦承",
    "證實",
    "直言",
    "呼籲",
    "分享",
    "補充",
    "說道",
    "表明",
    "轉述",
    "感嘆",
    "回憶",
    "抱怨",
    "建議",
    "提醒",
    "說",
    "問",
    "答",
    "笑說",
    "等人",
]
# Characters that end a name: grammar, punctuation, what follows a name in a sentence.
_STOP = (
    "的了是在和與及跟也都就還又已將會要能被把對從於等著過到給讓請或而但並且之這那此每各你我他她它們"
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


_SURNAME_CHARS = "".join(sorted(set(_with_simplified(_SINGLE_SURNAMES))))
_COMPOUNDS = frozenset(_with_simplified(_COMPOUND_SURNAMES))
_STOPS = frozenset(_STOP + _t2s().convert(_STOP))
_GIVEN = rf"(?:(?![{re.escape(_STOP)}{re.escape(_t2s().convert(_STOP))}])[{_HAN}])"
_SURNAME = rf"(?:{_alternation(_COMPOUND_SURNAMES)}|[{_SURNAME_CHARS}])"
_TITLE_RE = _alternation(_TITLES)
_VERB_RE = _alternation(_VERBS)
_HONORIFIC = re.compile(rf"(?:{_TITLE_RE})")
_NAME_END = re.compile(rf"(?:{_TITLE_RE}|{_VERB_RE})")

# A role, optional separator, then where a surname begins.
_ROLE_CUE = re.compile(rf"(?:{_alternation(_ROLES)})[：:]?[ \u3000]?(?={_SURNAME})")
_WEAK_ROLE_CUE = re.compile(rf"(?:{_alternation(_WEAK_ROLES)})[：:]?[ \u3000]?(?={_SURNAME})")
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
