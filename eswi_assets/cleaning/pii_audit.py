"""A second, independent PII detector for the residue check: Microsoft Presidio's analyzer.

Running the redactor's own detectors over its output can only ever find nothing, so the blocking
check asks a detector built another way: Presidio's recognizers (its e-mail, phone and card
recognizers as shipped, plus pattern recognizers for Taiwanese kinds) with Presidio's context
scoring, and person names from jieba's POS tagger (`nr`, surname + two given characters)
instead of context rules. A value
counts when its score passes `SCORE_THRESHOLD`: weak patterns (a long number, a date) only with
a context word nearby, as Presidio's context enhancer decides.

No spaCy model is downloaded: jieba tokenizes and tags, spaCy's bare `Vocab` only holds the
tokens as a `Doc`. Presidio's shipped regexes use `\\b`, which does not separate Chinese from
ASCII, so the text is first spaced (`請撥 0912345678 謝謝`); placeholders are blanked out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import jieba
import jieba.posseg
import opencc
import tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
)
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from eswi_assets.cleaning.pii import PII_KINDS, PLACEHOLDER_PATTERN
from eswi_assets.cleaning.pii_names import is_full_name
from eswi_assets.cleaning.pii_patterns import is_valid_tw_id

LANGUAGE = "zh"
SCORE_THRESHOLD = 0.5
MAX_EXAMPLES = 5

_SPACE_BEFORE = re.compile(r"(?<=[^\x00-\x7f])(?=[A-Za-z0-9@+(])")
_SPACE_AFTER = re.compile(r"(?<=[A-Za-z0-9)])(?=[^\x00-\x7f])")


class DetectorUnavailable(RuntimeError):
    """The residue detector could not be built: the corpus must not pass unchecked."""


def _spaced(text: str) -> str:
    """NFKC text with placeholders blanked and a space wherever ASCII meets other scripts."""
    text = PLACEHOLDER_PATTERN.sub(lambda m: "□" * len(m.group()), text)
    text = unicodedata.normalize("NFKC", text)
    return _SPACE_AFTER.sub(" ", _SPACE_BEFORE.sub(" ", text))


@cache
def _to_simplified() -> dict[int, str]:
    """Character-for-character Traditional -> Simplified, for jieba's Simplified dictionary.

    Keeping one character per character keeps jieba's word boundaries valid on the original.
    """
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {ord(a): b for a, b in zip(chars, converted, strict=True) if len(b) == 1 and a != b}


def _person_spans(doc: Doc, words: list[str], flags: list[str]) -> list[Span]:
    """Full names among the `nr` words; jieba often tags `陳` and `美玲` apart, so a tagged
    surname joins a tagged given name after it."""
    spans, i = [], 0
    while i < len(words):
        for width in (1, 2):
            tagged = all(f == "nr" for f in flags[i : i + width]) and i + width <= len(words)
            if tagged and is_full_name("".join(words[i : i + width])):
                spans.append(Span(doc, i, i + width, label="PERSON"))
                i += width - 1
                break
        i += 1
    return spans


class JiebaNlpEngine(NlpEngine):
    """Tokens, lemmas and PERSON entities from jieba's POS tagger, no spaCy model needed."""

    def __init__(self) -> None:
        self._vocab: Vocab | None = None

    def load(self) -> None:
        jieba.setLogLevel(60)
        jieba.initialize()
        _to_simplified()
        self._vocab = Vocab()

    def is_loaded(self) -> bool:
        return self._vocab is not None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        assert self._vocab is not None, "load() first"
        pairs = jieba.posseg.lcut(text.translate(_to_simplified()))
        words, flags, cursor = [], [], 0
        for pair in pairs:
            words.append(text[cursor : cursor + len(pair.word)])
            flags.append(pair.flag)
            cursor += len(pair.word)
        doc = Doc(self._vocab, words=words or [" "], spaces=[False] * max(len(words), 1))
        doc.ents = _person_spans(doc, words, flags)
        return NlpArtifacts(
            entities=list(doc.ents),
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.text for token in doc],
            nlp_engine=self,
            language=language,
            scores=[0.4] * len(doc.ents),
        )

    def process_batch(self, texts: Any, language: str, batch_size: int = 1, n_process: int = 1,
                      **kwargs: Any) -> Any:  # fmt: skip
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return False

    def is_punct(self, word: str, language: str) -> bool:
        return all(unicodedata.category(c).startswith("P") for c in word)

    def get_supported_entities(self) -> list[str]:
        return ["PERSON"]

    def get_supported_languages(self) -> list[str]:
        return [LANGUAGE]


class TaggedPersonRecognizer(EntityRecognizer):
    """PERSON from the tagger's `nr` words: a weak score that context words must lift."""

    def __init__(self, context: list[str]) -> None:
        super().__init__(["PERSON"], name="TaggedPersonRecognizer", supported_language=LANGUAGE,
                         context=context)  # fmt: skip

    def load(self) -> None:
        """Nothing to load: the NLP engine tags."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None:
            return []
        return [
            RecognizerResult(
                "PERSON",
                ent.start_char,
                ent.end_char,
                score,
                analysis_explanation=AnalysisExplanation(self.name, score, "jieba tag nr"),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=True)
        ]


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, with the bundled public-suffix list (no network)."""

    _extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return self._extract(pattern_text).fqdn != ""


class ConfidentPhoneRecognizer(PhoneRecognizer):
    """A number valid in Taiwan's numbering plan is personal with or without a context word."""

    SCORE = 0.6


class TwIdRecognizer(PatternRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_tw_id(pattern_text)


def _pattern(entity: str, regex: str, score: float, context: list[str]) -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity=entity,
        name=f"{entity}_recognizer",
        supported_language=LANGUAGE,
        patterns=[Pattern(entity, regex, score)],
        context=context,
    )


# Roles and titles only: `說` or `母親` also follow public figures and places (`蔣經國母親`).
_PERSON_CONTEXT = [
    "先生",
    "小姐",
    "女士",
    "太太",
    "老師",
    "醫師",
    "律師",
    "教授",
    "主任",
    "經理",
    "里長",
    "議員",
    "委員",
    "記者",
    "同學",
    "承辦人",
    "聯絡人",
    "負責人",
    "收件人",
    "申請人",
    "姓名",
    "表示",
    "指出",
    "說明",
    "強調",
    "市長",
    "校長",
    "店長",
]
_ENTITY_KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "TW_ID": "tw_id",
    "PERSON": "name",
    "ADDRESS": "address",
    "BIRTH_DATE": "birth_date",
    "ACCOUNT": "account",
    "PASSPORT": "passport",
    "PLATE": "plate",
    "HANDLE": "handle",
}


def _recognizers() -> list[EntityRecognizer]:
    date = (
        r"(?:民國|西元)?\s?\d{2,4}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?[日號]"
        r"|(?:民國)?\s?\d{2,4}\s?[./-]\s?\d{1,2}\s?[./-]\s?\d{1,2}"
    )
    return [
        OfflineEmailRecognizer(supported_language=LANGUAGE),
        ConfidentPhoneRecognizer(supported_language=LANGUAGE, supported_regions=("TW",)),
        CreditCardRecognizer(supported_language=LANGUAGE),
        TwIdRecognizer(
            supported_entity="TW_ID",
            supported_language=LANGUAGE,
            patterns=[Pattern("TW_ID", r"\b[A-Z][1289A-D]\d{8}\b", 0.7)],
        ),
        _pattern("ADDRESS", r"(?:路|街|大道|巷|弄|段|鄰)\s?\d+(?:\s?[-之]\s?\d+)?\s?號", 0.6, []),
        _pattern(
            "BIRTH_DATE",
            date,
            0.2,
            ["生日", "出生", "生於", "日生", "月生", "年生", "誕生", "dob", "birthday"],
        ),
        _pattern(
            "ACCOUNT",
            r"\b(?:\(?\d{3}\)?\s?-?\s?)?\d{6,14}\b|\b\d{7}\s?-\s?\d{7}\b",
            0.2,
            ["帳號", "帳戶", "戶頭", "匯款", "轉帳", "匯入", "轉入", "局號", "劃撥", "account"],
        ),
        _pattern("PASSPORT", r"\b[A-Z]{0,2}\d{7,9}\b", 0.2, ["護照", "passport"]),
        _pattern(
            "PLATE",
            r"\b(?:[A-Z]{2,3}-\d{3,4}|\d{3,4}-[A-Z]{2,3})\b",
            0.2,
            ["車", "牌照", "plate"],
        ),
        _pattern(
            "HANDLE",
            r"(?<![\w.@-])@?(?=[A-Za-z0-9._-]*[0-9._])[A-Za-z0-9][A-Za-z0-9._-]{2,29}\b",
            0.2,
            ["line", "ig", "instagram", "fb", "facebook", "臉書", "賴", "telegram", "微信"],
        ),
        TaggedPersonRecognizer(_PERSON_CONTEXT),
    ]


@cache
def _analyzer() -> AnalyzerEngine:
    try:
        registry = RecognizerRegistry(supported_languages=[LANGUAGE])
        for recognizer in _recognizers():
            registry.add_recognizer(recognizer)
        return AnalyzerEngine(
            registry=registry,
            nlp_engine=JiebaNlpEngine(),
            supported_languages=[LANGUAGE],
            default_score_threshold=SCORE_THRESHOLD,
            context_aware_enhancer=LemmaContextAwareEnhancer(
                context_prefix_count=4, context_suffix_count=2, context_matching_mode="substring"
            ),
        )
    except Exception as error:  # any failure here would let raw text through unchecked
        raise DetectorUnavailable(f"PII residue detector could not be built: {error}") from error


@dataclass(frozen=True)
class Audit:
    """What the independent detector found: counts per kind and masked examples."""

    counts: dict[str, int]
    examples: list[str]


_ALNUM = re.compile(r"[A-Za-z0-9]")


def _masked(text: str, results: list[RecognizerResult]) -> str:
    """`text` with every found value hidden but its first character, digits and letters too."""
    chars = list(_ALNUM.sub("•", text))
    for r in results:
        chars[r.start + 1 : r.end] = "•" * (r.end - r.start - 1)
        chars[r.start] = text[r.start]
    return "".join(chars).replace("\n", " ")


def audit(text: str, max_examples: int = MAX_EXAMPLES) -> Audit:
    """Run the independent detector over `text` (placeholders are ignored)."""
    spaced = _spaced(text)
    results = sorted(_analyzer().analyze(spaced, language=LANGUAGE), key=lambda r: r.start)
    counts = Counter(_ENTITY_KINDS[r.entity_type] for r in results)
    masked = _masked(spaced, results)
    examples = [
        f"{_ENTITY_KINDS[r.entity_type]}: {masked[max(0, r.start - 5) : r.end + 5]}"
        for r in results[:max_examples]
    ]
    return Audit({kind: counts[kind] for kind in PII_KINDS}, examples)


def load_detector() -> None:
    """Build the detector now, so a missing piece fails loudly before any text is judged."""
    _analyzer()
