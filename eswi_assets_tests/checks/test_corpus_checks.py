"""Data checks pass on a healthy corpus and fail, with their numbers, on one made bad on purpose."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from eswi_assets.checks.corpus_checks import CheckThresholds, run_checks
from eswi_assets.checks.registry import check_specs
from eswi_assets.keys import CLEANED_CORPUS, RAW_PAGES

BODY = "這家餐廳的服務很好，菜色也很豐富，價格合理，下次還會再來。"


def corpus(n: int = 40, **overrides) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "partition_date": pd.Timestamp("2026-11-01") + pd.Timedelta(days=i % 3),
                "doc_id": f"doc{i}",
                "url": f"http://127.0.0.1/a/{i}.html",
                "source": ["news", "forum"][i % 2],
                "title": f"標題{i}",
                "summary": "摘要內容",
                "body": f"{BODY}第{i}篇。" * (1 + i % 3),
                "language": "zh-Hant",
                "length": len(BODY) * (1 + i % 3),
                "cjk_share": 0.95,
                "minhash": "00",
                "pii_redactions": 0,
            }
        )
    df = pd.DataFrame(rows)
    for column, values in overrides.items():
        df[column] = values
    return df


def results_by_name(asset: str, df: pd.DataFrame) -> dict:
    return {r.check_name: r for r in run_checks(asset, df, CheckThresholds())}


def test_healthy_corpus_passes_every_check():
    results = results_by_name(CLEANED_CORPUS, corpus())
    assert {name: r.passed for name, r in results.items()} == dict.fromkeys(results, True)


def test_pii_left_in_a_body_fails_the_blocking_check_and_names_the_kind():
    df = corpus()
    df.loc[3, "body"] = BODY + "請來電0912345678或寄信到someone@example.com"
    result = results_by_name(CLEANED_CORPUS, df)["pii_residue"]
    assert not result.passed
    assert result.severity.value == "ERROR"
    assert result.metadata["rows_with_pii"].value == 1
    assert result.metadata["residue_phone"].value >= 1


@pytest.mark.parametrize(
    ("check", "make_bad"),
    [
        ("missing_values", lambda df: df.assign(body=[""] * 10 + list(df["body"][10:]))),
        ("unexpected_values", lambda df: df.assign(language=["other"] * 10 + ["zh-Hant"] * 30)),
        ("skew", lambda df: df.assign(source=["news"] * 39 + ["forum"])),
        ("duplicate_rate", lambda df: df.assign(body=[BODY] * 40)),
    ],
)
def test_corpus_made_bad_on_purpose_fails_the_matching_check(check, make_bad):
    result = results_by_name(CLEANED_CORPUS, make_bad(corpus()))[check]
    assert not result.passed
    assert result.severity.value == "WARN"


def test_length_outliers_are_reported_with_their_count():
    lengths = [100] * 38 + [1, 900_000]
    result = results_by_name(CLEANED_CORPUS, corpus(length=lengths))["unexpected_values"]
    assert result.metadata["length_outliers"].value == 2


def test_empty_corpus_fails_instead_of_passing_vacuously():
    results = results_by_name(CLEANED_CORPUS, corpus().iloc[0:0])
    assert not results["missing_values"].passed
    assert not results["unexpected_values"].passed


def raw(outcomes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "url": [f"http://x/{i}" for i in range(len(outcomes))],
            "source": ["demo"] * len(outcomes),
            "outcome": outcomes,
            "html": ["<html>x</html>" if o == "ok" else "" for o in outcomes],
            "title": [f"t{i}" for i in range(len(outcomes))],
            "content_hash": [f"h{i}" for i in range(len(outcomes))],
        }
    )


def test_crawl_with_many_failures_fails_and_counts_each_outcome():
    result = results_by_name(RAW_PAGES, raw(["ok"] * 5 + ["failed"] * 5))["crawl_failures"]
    assert not result.passed
    assert result.metadata["outcome_failed"].value == 5


def test_disallowed_urls_do_not_count_as_failures():
    result = results_by_name(RAW_PAGES, raw(["ok"] * 8 + ["disallowed"] * 8))["crawl_failures"]
    assert result.passed


def test_only_pii_residue_is_blocking():
    blocking = {s.name for s in check_specs(CLEANED_CORPUS) if s.blocking}
    assert blocking == {"pii_residue"}
    assert not any(s.blocking for s in check_specs(RAW_PAGES))


def test_pii_the_redactor_misses_fails_the_residue_check_with_masked_examples():
    """A value the redactor has no rule for (a bare name with only a weak cue, a house number
    with an unknown road suffix) is still caught: the check runs an independent detector."""
    from eswi_assets.cleaning.pii import redact

    missed = "這份文件由陳美玲小姐整理，寄到幸福大道一段8號。"
    redacted = redact(missed).text
    df = corpus()
    df.loc[5, "body"] = BODY + redacted.replace("[NAME_1]", "陳美玲")  # the redactor "missed" it
    result = results_by_name(CLEANED_CORPUS, df)["pii_residue"]
    assert not result.passed
    assert result.metadata["residue_name"].value >= 1
    examples = result.metadata["masked_examples"].value
    assert examples and all("陳美玲" not in e for e in examples)


def test_redacted_placeholders_pass_the_residue_check():
    df = corpus()
    df.loc[2, "body"] = BODY + "承辦人[NAME_1]表示，請撥[PHONE]或寄到[ADDRESS]，LINE ID：[HANDLE]。"
    assert results_by_name(CLEANED_CORPUS, df)["pii_residue"].passed


def test_a_detector_that_cannot_load_fails_the_check_instead_of_passing(monkeypatch):
    from eswi_assets.cleaning import pii_audit

    def broken() -> None:
        raise pii_audit.DetectorUnavailable("no tagger")

    monkeypatch.setattr("eswi_assets.checks.corpus_checks.load_detector", broken)
    with pytest.raises(pii_audit.DetectorUnavailable):
        results_by_name(CLEANED_CORPUS, corpus())


def test_a_check_that_raises_fails_with_its_error_and_the_others_still_run(monkeypatch):
    from eswi_assets.checks import corpus_checks

    def broken(df: pd.DataFrame, t: CheckThresholds):
        raise KeyError("length")

    checks = tuple(
        dataclasses.replace(c, fn=broken) if c.name == "unexpected_values" else c
        for c in corpus_checks.CHECKS[CLEANED_CORPUS]
    )
    monkeypatch.setitem(corpus_checks.CHECKS, CLEANED_CORPUS, checks)
    results = {r.check_name: r for r in run_checks(CLEANED_CORPUS, corpus(), CheckThresholds())}
    assert not results["unexpected_values"].passed
    assert results["unexpected_values"].metadata["error"].value == "KeyError: 'length'"
    assert results["pii_residue"].passed and len(results) == len(checks)


def test_results_name_the_partition_they_were_computed_for():
    results = run_checks(CLEANED_CORPUS, corpus(), CheckThresholds(), partition="2026-11-02")
    assert {r.partition for r in results} == {"2026-11-02"}
    assert [r.blocking for r in results if r.check_name == "pii_residue"] == [True]
