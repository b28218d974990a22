"""Metadata helpers shared by the assets: what a data engineer wants to see in the UI."""

from __future__ import annotations

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 10
PREVIEW_CHARS = 60


def preview(df: pd.DataFrame, columns: list[str]) -> dg.MetadataValue:
    """A short Markdown table; long text is cut so the UI stays readable."""
    head = df[columns].head(PREVIEW_ROWS).copy()
    for column in head.columns:
        if head[column].dtype == object:
            head[column] = head[column].astype(str).str.slice(0, PREVIEW_CHARS)
    return dg.MetadataValue.md(head.to_markdown(index=False) if len(head) else "_no rows_")


def counts(df: pd.DataFrame, column: str) -> dg.MetadataValue:
    return dg.MetadataValue.json(
        {str(k): int(v) for k, v in df[column].value_counts().items()} if len(df) else {}
    )
