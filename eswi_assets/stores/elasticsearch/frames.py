"""DataFrame <-> documents, so a frame read back from Elasticsearch has the columns and dtypes
the DuckDB IO manager gives for the same data.

Timestamps are stored as naive ISO-8601 strings (Elasticsearch reads them as UTC, and keeps the
string in `_source`, so microseconds survive the round trip). Integers come back as `int64`, or
as nullable `Int64` when a value is missing, exactly as DuckDB returns them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from eswi_assets.stores.elasticsearch.index import IndexTemplate

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
INTEGER_TYPES = {"byte", "short", "integer", "long", "unsigned_long"}
FLOAT_TYPES = {"half_float", "float", "double", "scaled_float"}


@dataclass(frozen=True)
class Document:
    id: str
    label: str  # the row's identifying fields, for error messages
    source: dict[str, Any]


def document_id(namespace: str, key: list[Any]) -> str:
    """Same row, same id: a re-run overwrites instead of adding a copy."""
    return hashlib.sha1("\x1f".join(map(str, [namespace, *key])).encode()).hexdigest()


def naive_timestamps(values: pd.Series) -> pd.Series:
    """Timestamps without a zone; aware ones are converted to UTC first."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def to_iso(values: pd.Series) -> pd.Series:
    return naive_timestamps(values).dt.strftime(ISO_FORMAT)


def to_documents(df: pd.DataFrame, template: IndexTemplate, namespace: str) -> list[Document]:
    """One document per row; raises when two rows share the fields that identify a row."""
    columns: dict[str, list[Any]] = {}
    for name in df.columns:
        values = df[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = to_iso(values)
        values = values.astype(object)
        columns[name] = values.where(values.notna(), None).tolist()
    names = list(columns)
    rows = [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    id_fields = template.id_fields
    documents = []
    for row in rows:
        key = [row.get(field) for field in id_fields]
        label = ", ".join(f"{field}={value}" for field, value in zip(id_fields, key, strict=True))
        documents.append(Document(document_id(namespace, key), label, row))
    _refuse_duplicates(documents, template)
    return documents


def _refuse_duplicates(documents: list[Document], template: IndexTemplate) -> None:
    counts = Counter(doc.id for doc in documents)
    repeated = sorted({doc.label for doc in documents if counts[doc.id] > 1})
    if repeated:
        raise ValueError(
            f"{len(documents) - len(counts)} row(s) of {template.name} repeat the identifying "
            f"fields {template.id_fields}, so they would overwrite each other in Elasticsearch: "
            f"{repeated[:5]}. De-duplicate the rows before storing them."
        )


def to_frame(sources: list[dict[str, Any]], template: IndexTemplate) -> pd.DataFrame:
    """Rows from `_source` dicts, columns in template order, dtypes as DuckDB would give."""
    df = pd.DataFrame.from_records(sources, columns=template.columns)
    for name, spec in template.properties.items():
        df[name] = _typed(df[name], spec.get("type", "object"))
    return df


def _typed(values: pd.Series, kind: str) -> pd.Series:
    missing = values.isna()
    if kind == "date":
        return pd.to_datetime(values, format="ISO8601", utc=True).dt.tz_localize(None)
    if kind in INTEGER_TYPES:
        return values.astype("Int64" if missing.any() else "int64")
    if kind in FLOAT_TYPES:
        return values.astype("float64")
    if kind == "boolean" and not missing.any():
        return values.astype(bool)
    return values.astype(object).where(~missing, None)
