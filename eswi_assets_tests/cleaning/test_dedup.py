"""Exact and near-duplicate bodies are dropped in favour of the first; distinct ones all stay."""

from __future__ import annotations

from eswi_assets.cleaning.dedup import deduplicate
from eswi_assets_tests.cleaning.pages import reviews


def _body(start: int, n: int = 12) -> str:
    return "".join(reviews()[start : start + n])


def test_exact_duplicates_are_dropped_even_with_different_whitespace() -> None:
    body = _body(0)
    result = deduplicate([body, f"  {body[:50]}\n{body[50:]} ", _body(100)])
    assert result.kept == [0, 2]
    assert result.duplicates[1].of == 0
    assert result.duplicates[1].kind == "exact"


def test_near_duplicates_are_dropped_and_distinct_documents_kept() -> None:
    body = _body(0)
    edited = body.replace("，", "。", 3) + "補充一句話。"
    distinct = [_body(i) for i in range(20, 200, 20)]
    result = deduplicate([body, *distinct, edited], threshold=0.8)
    assert result.kept == list(range(len(distinct) + 1))
    near = result.duplicates[len(distinct) + 1]
    assert (near.of, near.kind) == (0, "near")
    assert near.similarity >= 0.8


def test_the_first_document_in_the_given_order_is_kept() -> None:
    body = _body(0)
    edited = body + "多一句。"
    assert deduplicate([body, edited]).kept == [0]
    assert deduplicate([edited, body]).kept == [0]
    assert deduplicate([edited, body]).duplicates[1].of == 0


def test_results_and_signatures_are_deterministic() -> None:
    bodies = [_body(i) for i in range(0, 120, 10)] + [_body(0)]
    first, second = deduplicate(bodies), deduplicate(list(bodies))
    assert first == second
    assert all(len(sig) == 128 * 8 for sig in first.signatures)
    assert first.signatures[0] == first.signatures[-1]
    assert len(set(first.signatures[:-1])) == len(bodies) - 1


def test_short_and_empty_bodies_do_not_break_deduplication() -> None:
    result = deduplicate(["", "好", "好", "不好"])
    assert result.kept == [0, 1, 3]
    assert result.duplicates[2].kind == "exact"
