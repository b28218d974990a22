"""DataFrame <-> documents, so a frame read back from Elasticsearch has the columns and dtypes
the DuckDB IO manager gives for the same data.

Timestamps are stored as naive ISO-8601 strings (Elasticsearch reads them as UTC, and keeps the
string in `_source`, so microseconds survive the round trip). Integers come back as `int64`, or
as nullable `Int64` when a value is missing, exactly as DuckDB returns them.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from eswi_assets.stores.elasticsearch.index import IndexTemplate

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
INTEGER_TYPES = {"byte", "short", "integer", "long", "unsigned_long"}
FLOAT_TYPES = {"half_float", "float", "double", "scaled_float"}


class Document(NamedTuple):
    """One row as Elasticsearch stores it; a tuple, since a frame makes one per row."""

    id: str
    source: dict[str, Any]
    id_fields: tuple[str, ...]

    @property
    def label(self) -> str:
        """The row's identifying fields, for error messages (built only for those)."""
        return ", ".join(f"{field}={self.source.get(field)}" for field in self.id_fields)


def document_id(namespace: str, key: list[Any]) -> str:
    """Same row, same id: a re-run overwrites instead of adding a copy."""
    return hashlib.sha1("\x1f".join(map(str, [namespace, *key])).encode()).hexdigest()


def naive_timestamps(values: pd.Series) -> pd.Series:
    """Timestamps without a zone; aware ones are converted to UTC first."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def to_iso(values: pd.Series) -> list[str | None]:
    """ISO_FORMAT strings (None for NaT), formatted by numpy in one call rather than per row."""
    stamps = naive_timestamps(values).to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(stamps, unit="us").astype(object)
    text[np.isnat(stamps)] = None
    return text.tolist()


def column_values(values: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values: ISO strings for timestamps, None for missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return to_iso(values)
    values = values.astype(object)
    return values.where(values.notna(), None).tolist()


def to_documents(df: pd.DataFrame, template: IndexTemplate, namespace: str) -> list[Document]:
    """One document per row; raises when two rows share the fields that identify a row.

    Column-wise conversion and one tuple per row: the per-row work is building the `_source`
    dict and hashing the id, which is what a large raw_pages partition pays for.
    """
    names = list(df.columns)
    columns = [column_values(df[name]) for name in names]
    sources = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    id_fields = tuple(template.id_fields)
    absent = [None] * len(df)
    keys = zip(
        *(columns[names.index(field)] if field in names else absent for field in id_fields),
        strict=True,
    )
    documents = [
        Document(document_id(namespace, list(key)), source, id_fields)
        for key, source in zip(keys, sources, strict=True)
    ]
    _refuse_duplicates(documents, template)
    return documents


class DocumentLabels(Mapping[str, str]):
    """`_id` -> label of `documents`, indexed on first use: bulk writes only ask for failures."""

    def __init__(self, documents: list[Document]) -> None:
        self._documents = documents

    @functools.cached_property
    def _by_id(self) -> dict[str, Document]:
        return {doc.id: doc for doc in self._documents}

    def __getitem__(self, doc_id: str) -> str:
        return self._by_id[doc_id].label

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._documents)


def _refuse_duplicates(documents: list[Document], template: IndexTemplate) -> None:
    if len({doc.id for doc in documents}) == len(documents):
        return
    counts = Counter(doc.id for doc in documents)
    repeated = sorted({doc.label for doc in documents if counts[doc.id] > 1})
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
