"""Metadata helpers shared by the assets: what a data engineer wants to see in the UI."""

from __future__ import annotations

import base64
import io

import dagster as dg
import pandas as pd
from matplotlib.figure import Figure

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


def figure(fig: Figure, alt: str) -> dg.MetadataValue:
    """A matplotlib figure as an inline PNG (a Markdown image with a data URL) the UI shows."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")


def table(df: pd.DataFrame, chars: int = 80) -> dg.MetadataValue:
    """A whole small table as Markdown, text cut to `chars` and kept on one line."""
    shown = df.copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].astype(str).str.replace("\n", " ").str.slice(0, chars)
    return dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".3f"))


def floats(metrics: dict[str, float], keys: list[str]) -> dict[str, dg.MetadataValue]:
    return {k: dg.MetadataValue.float(float(metrics[k])) for k in keys if k in metrics}


def history_series(history: list[dict], key: str, x: str = "step") -> list[tuple[float, float]]:
    """(x, value) points of one key a trainer logged; `step` is its global step."""
    points = []
    for step, entry in enumerate(history):
        if key in entry:
            points.append((float(entry.get(x, step)), float(entry[key])))
    return points


def line_plot(
    series: dict[str, list[tuple[float, float]]], title: str, ylabel: str, xlabel: str = "step"
) -> dg.MetadataValue:
    """One line per named series; an empty series is left out rather than failing the step."""
    fig = Figure(figsize=(5, 3), dpi=100)
    ax = fig.subplots()
    for name, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if any(series.values()):
        ax.legend()
    return figure(fig, title)
