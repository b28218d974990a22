"""Simplified becomes Traditional with Taiwan phrasing; scripts and non-Chinese are told apart."""

from __future__ import annotations

import pytest

from eswi_assets.cleaning.chinese import cjk_share, detect_language, to_traditional


def test_simplified_becomes_traditional_with_taiwan_phrasing() -> None:
    assert to_traditional("这个软件的鼠标很好用") == "這個軟體的滑鼠很好用"


def test_traditional_text_and_ascii_pass_through_unchanged() -> None:
    text = "這本書很好看，電話0912345678，email: a@b.com"
    assert to_traditional(text) == text


@pytest.mark.parametrize(
    ("text", "share"),
    [("中文ab", 0.5), ("中 文\n", 1.0), ("", 0.0), ("abc", 0.0), ("㐀𠀀中x", 0.75)],
)
def test_cjk_share_counts_ideographs_among_non_space_characters(text: str, share: float) -> None:
    assert cjk_share(text) == pytest.approx(share)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("這本書寫得非常好，作者對歷史的掌握很深入，讀起來一點也不枯燥。", "zh-Hant"),
        ("这本书写得非常好，作者对历史的掌握很深入，读起来一点也不枯燥。", "zh-Hans"),
        ("This page is written in English and has only a 中文 word.", "other"),
        ("この本はとても面白いです。歴史の知識が深まりました。", "other"),
        ("", "other"),
    ],
)
def test_language_is_detected_from_script_and_conversion(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_converted_text_is_detected_as_traditional() -> None:
    simplified = "这家餐厅的服务很好，菜色也很丰富，价格合理，下次还会再来。"
    assert detect_language(to_traditional(simplified)) == "zh-Hant"
