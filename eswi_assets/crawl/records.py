"""One crawl decision per URL, and the `raw_pages` table those decisions become.

The column list and dtypes live here once, so the asset, its checks and the tests agree on
the schema in ARCHITECTURE.md even for a crawl that decided nothing. pandas is imported only
when a frame is built, so the crawl itself (and its process start) does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Outcome = Literal["ok", "failed", "disallowed", "skipped"]

RAW_PAGES_DTYPES: dict[str, str] = {
    "partition_date": "datetime64[ns]",
    "url": "object",
    "source": "object",
    "fetched_at": "datetime64[ns]",
    "outcome": "object",
    "http_status": "Int64",
    "error": "object",
    "attempts": "int64",
    "depth": "int64",
    "rendered": "bool",
    "html": "object",
    "title": "object",
    "content_hash": "object",
}
RAW_PAGES_COLUMNS: tuple[str, ...] = tuple(RAW_PAGES_DTYPES)


def utc_now() -> dt.datetime:
    """UTC as a naive timestamp, the form `fetched_at` is stored in."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def content_hash(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageRecord:
    """What the crawl decided about one URL; `links` feed the next depth and are not stored.

    `retryable` (not stored either) marks a failure worth the end-of-crawl second pass.
    """

    url: str
    source: str
    outcome: Outcome
    depth: int
    fetched_at: dt.datetime = field(default_factory=utc_now)
    http_status: int | None = None
    error: str | None = None
    attempts: int = 0
    rendered: bool = False
    html: str = ""
    title: str = ""
    links: tuple[str, ...] = ()
    retryable: bool = False

    @property
    def content_hash(self) -> str:
        return content_hash(self.html)


def records_to_frame(records: Iterable[PageRecord], crawl_date: dt.date) -> pd.DataFrame:
    """The `raw_pages` rows for one crawl date, columns and dtypes exactly as documented."""
    import pandas as pd

    partition = pd.Timestamp(crawl_date)
    rows = [
        {
            "partition_date": partition,
            "url": r.url,
            "source": r.source,
            "fetched_at": pd.Timestamp(r.fetched_at),
            "outcome": r.outcome,
            "http_status": r.http_status,
            "error": r.error,
            "attempts": r.attempts,
            "depth": r.depth,
            "rendered": r.rendered,
            "html": r.html,
            "title": r.title,
            "content_hash": r.content_hash,
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=list(RAW_PAGES_COLUMNS)).astype(RAW_PAGES_DTYPES)
