"""URL normalisation and link extraction decide what counts as 'the same page'."""

from __future__ import annotations

import pytest

from eswi_assets.crawl.urls import normalize_url, page_links, page_title, parse_html


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("/a.html#top", "http://h.tw/x/", "http://h.tw/a.html"),
        ("b.html", "http://h.tw/x/index.html", "http://h.tw/x/b.html"),
        ("../c.html?p=2", "http://h.tw/x/y/", "http://h.tw/x/c.html?p=2"),
        ("HTTP://H.TW:80", None, "http://h.tw/"),
        ("https://h.tw:443/p", None, "https://h.tw/p"),
        ("http://127.0.0.1:8765/p", None, "http://127.0.0.1:8765/p"),
        ("mailto:someone@h.tw", "http://h.tw/", None),
        ("javascript:void(0)", "http://h.tw/", None),
        ("http://[::1", None, None),
    ],
)
def test_urls_are_normalised_to_one_spelling_per_page(href, base, expected):
    assert normalize_url(href, base) == expected


def test_links_come_in_document_order_without_repeats_and_honour_base_href():
    doc = parse_html(
        '<html><head><base href="/sub/"><title> A  page </title></head><body>'
        '<a href="one.html">1</a><a href="one.html#again">1</a><a href="mailto:x@y">m</a>'
        '<a href="/two.html">2</a><a>no href</a></body></html>'
    )
    assert page_links(doc, "http://h.tw/dir/page.html") == [
        "http://h.tw/sub/one.html",
        "http://h.tw/two.html",
    ]
    assert page_title(doc) == "A page"


def test_an_empty_document_has_no_title_and_no_links():
    doc = parse_html("   ")
    assert doc is None
    assert page_title(doc) == "" and page_links(doc, "http://h.tw/") == []
