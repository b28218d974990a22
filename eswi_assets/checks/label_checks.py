"""Data checks on `labeled_sentiment`: label values, label balance, annotator agreement and whether
each labeled sentence is still the sentence that was sent out.

Every check is blocking (the reward model trains on these labels) but reports ERROR only where
training would be hurt; softer findings come back as WARN, which Dagster does not block on.
Each is a plain function from `LabelCheckInput` to a `CheckOutcome`, testable without Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from eswi_assets.checks.base import Check, CheckOutcome
from eswi_assets.keys import LABELED_SENTIMENT
from eswi_assets.labeling.aggregate import LABELS, Agreement
from eswi_assets.labeling.sentences import sentence_id

_ERROR = dg.AssetCheckSeverity.ERROR
_WARN = dg.AssetCheckSeverity.WARN


@dataclass(frozen=True)
class LabelThresholds:
    max_dominant_share: float = 0.8
    required_labels: tuple[str, ...] = ("positive", "negative")
    # Landis & Koch: 0.41-0.60 is "moderate" agreement; below it labels are too noisy to train on.
    min_kappa: float = 0.4
    min_agreement_items: int = 10


@dataclass(frozen=True)
class LabelCheckInput:
    labeled: pd.DataFrame
    agreement: Agreement
    corpus: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["doc_id", "body"]))


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def label_values(data: LabelCheckInput, t: LabelThresholds) -> CheckOutcome:
    """Missing or unknown labels, empty texts, a sentence twice: each would mis-train the model."""
    df = data.labeled
    labels = df["label"].fillna("").astype(str).str.strip()
    missing = int((labels == "").sum())
    unknown = sorted(set(labels[labels != ""]) - set(LABELS))
    unknown_rows = int(labels.isin(unknown).sum())
    empty_text = int((df["text"].fillna("").astype(str).str.strip() == "").sum())
    duplicates = int(df["sentence_id"].duplicated().sum())
    return CheckOutcome(
        len(df) > 0 and missing == unknown_rows == empty_text == duplicates == 0,
        {
            "rows": len(df),
            "missing_labels": missing,
            "unknown_label_rows": unknown_rows,
            "unknown_labels": dg.MetadataValue.json(unknown),
            "empty_texts": empty_text,
            "duplicate_sentence_ids": duplicates,
        },
    )


def label_balance(data: LabelCheckInput, t: LabelThresholds) -> CheckOutcome:
    """A label absent or one dominating: a reward model would learn the prior, not the text."""
    counts = data.labeled["label"].value_counts()
    total = int(counts.sum())
    dominant = str(counts.index[0]) if total else ""
    share = _share(int(counts.iloc[0]), total) if total else 0.0
    absent = [label for label in t.required_labels if label not in counts.index]
    return CheckOutcome(
        total > 0 and not absent and share <= t.max_dominant_share,
        {
            "rows_per_label": dg.MetadataValue.json({str(k): int(v) for k, v in counts.items()}),
            "dominant_label": dominant,
            "dominant_share": share,
            "threshold": t.max_dominant_share,
            "absent_required_labels": dg.MetadataValue.json(absent),
        },
    )


def label_agreement(data: LabelCheckInput, t: LabelThresholds) -> CheckOutcome:
    """Annotators who agree little more than chance give labels too noisy to train on; with too
    few shared sentences the kappa says nothing yet, so that passes with a note."""
    a = data.agreement
    judged = a.kappa is not None and a.items >= t.min_agreement_items
    metadata = {
        "fleiss_kappa": a.kappa if a.kappa is not None else "n/a",
        "items": a.items,
        "raters_per_item": a.raters,
        "min_kappa": t.min_kappa,
        "min_items": t.min_agreement_items,
    }
    if not judged:
        metadata["note"] = "too few sentences labeled by several annotators to judge agreement"
    return CheckOutcome(not judged or a.kappa >= t.min_kappa, metadata)


def source_match(data: LabelCheckInput, t: LabelThresholds) -> CheckOutcome:
    """A labeled text must still be the sentence the pipeline sent. Edited in doccano (its sha1 no
    longer matches its id) it may hold text that never went through PII redaction: ERROR. Gone
    from its document's current body (the page changed or was dropped): stale but still a
    consistent (text, label) pair, so WARN."""
    annotated = data.labeled[data.labeled["source"] != "seed"]
    edited = annotated[annotated["text"].map(sentence_id) != annotated["sentence_id"]]
    bodies = dict(zip(data.corpus["doc_id"], data.corpus["body"].fillna(""), strict=True))
    sourced = annotated[annotated["doc_id"].notna()]
    pairs = zip(sourced["text"], sourced["doc_id"], strict=True)
    found = pd.Series(
        [text in bodies.get(doc, "") for text, doc in pairs], index=sourced.index, dtype=bool
    )
    gone = sourced[~found]
    return CheckOutcome(
        edited.empty and gone.empty,
        {
            "annotated_rows": len(annotated),
            "edited_in_doccano": len(edited),
            "no_longer_in_source": len(gone),
            "edited_sentence_ids": dg.MetadataValue.json(edited["sentence_id"].head(20).tolist()),
            "stale_sentence_ids": dg.MetadataValue.json(gone["sentence_id"].head(20).tolist()),
        },
        _ERROR if len(edited) else _WARN,
    )


CHECKS: tuple[Check, ...] = tuple(
    Check(name, LABELED_SENTIMENT, fn, description, blocking=True)
    for name, fn, description in (
        ("label_values", label_values, "Missing or unknown labels, empty or repeated texts."),
        ("label_balance", label_balance, "A required label absent or one label dominating."),
        ("label_agreement", label_agreement, "Fleiss' kappa between annotators too low."),
        (
            "source_match",
            source_match,
            "Labeled text edited in doccano (ERROR) or gone from its cleaned_corpus document "
            "(WARN).",
        ),
    )
)


def run_label_checks(data: LabelCheckInput, t: LabelThresholds) -> list[dg.AssetCheckResult]:
    return [check.result(check.fn(data, t)) for check in CHECKS]
