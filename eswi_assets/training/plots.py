"""Training curves as inline PNGs for the Dagster UI (a Markdown image with a data URL)."""

from __future__ import annotations

import base64
import io

import dagster as dg
from matplotlib.figure import Figure


def history_series(history: list[dict], key: str, x: str = "step") -> list[tuple[float, float]]:
    """(x, value) points of one logged key; `step` is the trainer's global step."""
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
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")
