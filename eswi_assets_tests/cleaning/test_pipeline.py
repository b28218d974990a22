"""`clean_pages`: raw_pages rows in, cleaned_corpus rows out, every dropped page accounted for."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from eswi_assets.cleaning.options import CleaningSettings
from eswi_assets.cleaning.pii import PII_KINDS, find_pii
from eswi_assets.cleaning.pipeline import (
    CORPUS_COLUMNS,
    CORPUS_DTYPES,
    DROPPED_COLUMNS,
    clean_pages,
)
from eswi_assets_tests.cleaning.pages import article_page, reviews

DAY = pd.Timestamp("2026-11-03")
RAW_COLUMNS = [
    "partition_date", "url", "source", "fetched_at", "outcome", "http_status", "error",
    "attempts", "depth", "rendered", "html", "title", "content_hash",
]  # fmt: skip


def raw_row(url: str, html: str, *, outcome: str = "ok", error: str | None = None) -> dict:
    return {
        "partition_date": DAY,
        "url": url,
        "source": "demo",
        "fetched_at": DAY + pd.Timedelta(hours=9),
        "outcome": outcome,
        "http_status": 200 if outcome == "ok" else 503,
        "error": error,
        "attempts": 1,
        "depth": 1,
        "rendered": False,
        "html": html,
        "title": "頁面標題",
        "content_hash": hashlib.sha256(html.encode()).hexdigest(),
    }


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=RAW_COLUMNS)
    return df.astype({"http_status": "Int64"})


BASE = "http://127.0.0.1:8000/a/"
PII_PARAGRAPH = (
    "有問題請聯絡0912345678謝謝，我的身分證字號是A123456789，"
    "東西寄到臺北市中正區重慶南路一段122號。"
)
TEXT = [reviews()[i] for i in range(8)]  # Simplified Chinese


def handful_of_pages() -> pd.DataFrame:
    traditional = article_page(
        "好書推薦", "讀者的心得", ["這本書寫得非常好，讀起來一點也不枯燥。", PII_PARAGRAPH]
    )
    simplified = article_page("简体页面", "简体摘要", TEXT[:4])
    near_copy = article_page("简体页面转载", "转载摘要", [*TEXT[:4], "转载自别处。"])
    english = article_page("English", "An English page", ["This page is written in English. " * 5])
    return raw_frame(
        [
            raw_row(BASE + "1.html#comments", traditional),
            raw_row(BASE + "2.html", simplified),
            raw_row(BASE + "9.html", near_copy),
            raw_row(BASE + "3.html", article_page("短", "短", ["太短了。"])),
            raw_row(BASE + "4.html", "<html"),
            raw_row(BASE + "5.html", english),
            raw_row(BASE + "6.html", "", outcome="failed", error="HTTP 503 after 3 attempts"),
            raw_row(BASE + "7.html", "", outcome="disallowed"),
        ]
    )


@pytest.fixture(scope="module")
def cleaned():
    return clean_pages(handful_of_pages(), CleaningSettings())


def test_empty_input_gives_an_empty_corpus_with_the_table_columns_and_dtypes() -> None:
    for empty in (raw_frame([]), pd.DataFrame()):
        result = clean_pages(empty, CleaningSettings())
        assert list(result.corpus.columns) == list(CORPUS_COLUMNS)
        assert result.corpus.dtypes.astype(str).to_dict() == CORPUS_DTYPES
        assert result.corpus.empty
        assert list(result.dropped.columns) == list(DROPPED_COLUMNS)


def test_corpus_has_the_table_columns_and_dtypes(cleaned) -> None:
    assert list(cleaned.corpus.columns) == list(CORPUS_COLUMNS)
    assert cleaned.corpus.dtypes.astype(str).to_dict() == CORPUS_DTYPES


def test_only_good_pages_become_documents_and_every_other_page_says_why(cleaned) -> None:
    assert list(cleaned.corpus["url"]) == [BASE + "1.html#comments", BASE + "2.html"]
    stages = dict(zip(cleaned.dropped["url"], cleaned.dropped["stage"], strict=True))
    assert stages == {
        BASE + "3.html": "quality",
        BASE + "4.html": "extract",
        BASE + "5.html": "quality",
        BASE + "6.html": "crawl",
        BASE + "7.html": "crawl",
        BASE + "9.html": "near_duplicate",
    }
    reasons = dict(zip(cleaned.dropped["url"], cleaned.dropped["reason"], strict=True))
    assert "HTTP 503" in reasons[BASE + "6.html"]
    assert BASE + "2.html" in reasons[BASE + "9.html"]
    summary = cleaned.summary
    assert (summary.input_rows, summary.not_ok, summary.extraction_failures) == (8, 2, 1)
    assert (summary.quality_drops, summary.near_duplicates, summary.documents) == (2, 1, 2)


def test_personal_data_is_redacted_in_stored_documents(cleaned) -> None:
    first = cleaned.corpus.iloc[0]
    assert (
        "[PHONE]" in first["body"] and "[TW_ID]" in first["body"] and "[ADDRESS]" in first["body"]
    )
    assert first["pii_redactions"] == 3
    assert cleaned.summary.redactions == {
        **dict.fromkeys(PII_KINDS, 0),
        "phone": 1,
        "tw_id": 1,
        "address": 1,
    }
    for _, doc in cleaned.corpus.iterrows():
        assert not find_pii(f"{doc['title']}\n{doc['summary']}\n{doc['body']}")


def test_simplified_pages_are_stored_in_traditional_chinese(cleaned) -> None:
    converted = cleaned.corpus.iloc[1]
    assert converted["title"] == "簡體頁面"
    assert converted["language"] == "zh-Hant"
    assert cleaned.summary.converted_from_simplified == 1
    assert set(cleaned.corpus["language"]) == {"zh-Hant"}


def test_traditional_pages_are_stored_as_written() -> None:
    paragraphs = [
        "這個小傢伙很可愛，每天都跟著我到處跑，朋友看了也都很喜歡牠，真是一隻好狗。",
        "網絡上的照片都是牠。",
    ]
    result = clean_pages(
        raw_frame([raw_row(BASE + "1.html", article_page("小傢伙", "我家的狗", paragraphs))]),
        CleaningSettings(),
    )
    assert list(result.corpus["body"]) == ["\n".join(paragraphs)]
    assert result.summary.converted_from_simplified == 0


def test_document_fields_are_filled_as_the_table_says(cleaned) -> None:
    first = cleaned.corpus.iloc[0]
    canonical = BASE + "1.html"  # the fragment is not part of the document's identity
    assert first["doc_id"] == hashlib.sha1(canonical.encode()).hexdigest()
    assert first["partition_date"] == DAY
    assert first["source"] == "demo"
    assert first["length"] == len(first["body"])
    assert 0.5 <= first["cjk_share"] <= 1
    assert len(first["minhash"]) == 128 * 8
    assert first["summary"] == "讀者的心得"
    assert first["summary"] not in first["body"]


def test_same_page_under_two_fragments_is_stored_once() -> None:
    html = article_page("同一頁", "同一頁的摘要", TEXT[4:6])
    result = clean_pages(
        raw_frame([raw_row(BASE + "1.html#top", html), raw_row(BASE + "1.html", html)]),
        CleaningSettings(),
    )
    assert list(result.corpus["url"]) == [BASE + "1.html"]
    assert list(result.dropped["stage"]) == ["duplicate_url"]


def test_row_order_does_not_change_which_documents_are_kept() -> None:
    raw = handful_of_pages()
    forward = clean_pages(raw, CleaningSettings())
    backward = clean_pages(raw.iloc[::-1].reset_index(drop=True), CleaningSettings())
    pd.testing.assert_frame_equal(forward.corpus, backward.corpus)
