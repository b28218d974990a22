"""Title, summary and main text come out of a realistic page; broken markup never raises."""

from __future__ import annotations

import pytest

from eswi_assets.cleaning.extract import ExtractedDoc, ExtractionFailure, extract_document
from eswi_assets_tests.cleaning.pages import article_page

URL = "http://127.0.0.1:8000/a/1.html"
PARAGRAPHS = [
    "這本書寫得非常好，作者對歷史的掌握很深入，讀起來一點也不枯燥，每一章都有新的觀點。",
    "物流也很快，包裝完整，書況良好，下次還會在這裡買書，也推薦給喜歡歷史的朋友。",
]


def test_title_summary_and_body_come_from_the_article() -> None:
    html = article_page("這本書值得一讀", "一位讀者分享閱讀心得。", PARAGRAPHS)
    doc = extract_document(html, URL)
    assert doc == ExtractedDoc(
        title="這本書值得一讀", summary="一位讀者分享閱讀心得。", body="\n".join(PARAGRAPHS)
    )


def test_body_leaves_out_navigation_footer_and_scripts() -> None:
    doc = extract_document(article_page("標題", "摘要", PARAGRAPHS), URL)
    assert isinstance(doc, ExtractedDoc)
    for chrome in ("讀者心得站", "相關文章", "回到列表", "示範網站", "不應出現在內文"):
        assert chrome not in doc.body


def test_summary_falls_back_to_the_lead_paragraph_without_a_description() -> None:
    doc = extract_document(article_page("標題", None, PARAGRAPHS), URL)
    assert doc == ExtractedDoc(title="標題", summary=PARAGRAPHS[0], body="\n".join(PARAGRAPHS))


def test_lead_paragraph_stays_in_the_body_when_the_description_repeats_it() -> None:
    doc = extract_document(article_page("標題", PARAGRAPHS[0], PARAGRAPHS), URL)
    assert isinstance(doc, ExtractedDoc)
    assert doc.body == "\n".join(PARAGRAPHS)


def test_heading_and_summary_copies_after_a_short_article_are_dropped() -> None:
    short = "東西不錯，物流很快，包裝完整，下次還會再買。"
    doc = extract_document(article_page("短評", "簡短摘要", [short]), URL)
    assert doc == ExtractedDoc(title="短評", summary="簡短摘要", body=short)


@pytest.mark.parametrize(
    "html",
    ["", "<html", "\x00\x01\x02", "<<<>>>", "<html><body></body></html>", "純文字沒有標籤"],
)
def test_broken_or_empty_html_gives_a_reason_instead_of_raising(html: str) -> None:
    result = extract_document(html, URL)
    assert isinstance(result, ExtractionFailure)
    assert result.reason
