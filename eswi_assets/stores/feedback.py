"""Where end users' ratings land: the serving app writes them, `user_feedback` observes them,
`reward_model` turns them into preference pairs and a sensor reads what is new after a cursor.

`FeedbackStore` is the interface (plain code: the serving app uses it as it is, Dagster through
`eswi_assets.resources.feedback_store`, so assets and sensors name a key, never a backend);
`SqliteFeedbackStore` is the embedded default. Raw user ids never reach a backend: the base class
replaces them with a salted sha256 before any write, and the salt is a secret (`dg.EnvVar` in
Dagster, the environment in serving).

Every stored row carries `seq`, a number that only grows: a new row, or a changed one, gets a
larger `seq` than anything before it, so "rows after cursor N" never rescans and never misses.
Re-sending an identical row is a no-op (it keeps its `seq`).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["api", "line"]

# Column order of every frame a store returns (ARCHITECTURE.md `user_feedback`, plus `seq`).
COLUMNS = [
    "seq",
    "feedback_id",
    "generation_id",
    "model_version",
    "prompt",
    "response",
    "rating",
    "user_hash",
    "channel",
    "created_at",
]


class Feedback(BaseModel):
    """One rating as the serving app receives it; `user_id` is raw and is hashed before storage."""

    model_config = ConfigDict(frozen=True)

    feedback_id: str = Field(min_length=1, max_length=128)
    generation_id: str = Field(min_length=1, max_length=128)
    model_version: str = Field(min_length=1, max_length=256)
    prompt: str
    response: str
    rating: int = Field(ge=1, le=5)
    user_id: str = Field(min_length=1)
    channel: Channel
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("created_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return as_utc(value)


@dataclass(frozen=True)
class StoredFeedback:
    """A row as a backend keeps it: the user id already replaced by its salted hash."""

    feedback_id: str
    generation_id: str
    model_version: str
    prompt: str
    response: str
    rating: int
    user_hash: str
    channel: str
    created_at: datetime


@dataclass(frozen=True)
class FeedbackBatch:
    """Rows after a cursor; `cursor` is the `seq` to pass next time (unchanged when none)."""

    rows: pd.DataFrame
    cursor: int


@dataclass(frozen=True)
class FeedbackStats:
    """What an observation of `user_feedback` reports."""

    count: int
    newest_created_at: datetime | None
    max_seq: int


def as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware times are converted, so rows sort by real time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hash_user_id(user_id: str, salt: str) -> str:
    """Salted sha256: stable per user (for A/B stickiness) yet not reversible without the salt."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


class FeedbackStore(abc.ABC):
    """The feedback-store interface. Backends implement the four `_`-free abstract methods."""

    def __init__(self, salt: str | None = None) -> None:
        self.salt = salt  # secret salt for user-id hashes

    def hash_user(self, user_id: str) -> str:
        return hash_user_id(user_id, self.secret_salt())

    def secret_salt(self) -> str:
        """The configured salt; backends without a safe place for a generated one need it set."""
        if not self.salt:
            raise ValueError(
                f"{type(self).__name__} needs a salt for user-id hashes: set ESWI_FEEDBACK_SALT"
            )
        return self.salt

    def upsert(self, feedback: Iterable[Feedback]) -> int:
        """Store ratings idempotently by `feedback_id`; returns the count of new or changed rows."""
        return self.write(
            [
                StoredFeedback(
                    feedback_id=item.feedback_id,
                    generation_id=item.generation_id,
                    model_version=item.model_version,
                    prompt=item.prompt,
                    response=item.response,
                    rating=item.rating,
                    user_hash=self.hash_user(item.user_id),
                    channel=item.channel,
                    created_at=as_utc(item.created_at),
                )
                for item in feedback
            ]
        )

    @abc.abstractmethod
    def write(self, rows: list[StoredFeedback]) -> int:
        """Insert new rows, replace changed ones (with a new `seq`), skip identical ones."""

    @abc.abstractmethod
    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        """Up to `limit` rows with `seq` > `cursor`, oldest `seq` first."""

    @abc.abstractmethod
    def read_all(self) -> pd.DataFrame:
        """Every stored row, in `seq` order (columns: COLUMNS)."""

    @abc.abstractmethod
    def stats(self) -> FeedbackStats:
        """Row count, newest `created_at` and the largest `seq`."""


def rows_to_frame(records: Iterable[dict]) -> pd.DataFrame:
    """A frame with COLUMNS and stable dtypes (created_at: naive UTC), also when empty."""
    df = pd.DataFrame(list(records), columns=COLUMNS)
    df["seq"] = df["seq"].astype("int64")
    df["rating"] = df["rating"].astype("int64")
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601").dt.tz_localize(
        None
    )
    return df


_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    feedback_id TEXT NOT NULL UNIQUE,
    generation_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    user_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""

_FIELDS = COLUMNS[1:]
# Fixed width, so SQL MAX() and ORDER BY on the text column follow time order.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"

# REPLACE deletes the old row and inserts a new one, so a changed row gets a fresh AUTOINCREMENT
# seq (never reused); the NOT EXISTS guard leaves identical re-sends untouched.
_UPSERT = f"""
INSERT OR REPLACE INTO feedback ({", ".join(_FIELDS)})
SELECT {", ".join("?" for _ in _FIELDS)}
WHERE NOT EXISTS (
    SELECT 1 FROM feedback WHERE {" AND ".join(f"{name} = ?" for name in _FIELDS)}
)
"""


class SqliteFeedbackStore(FeedbackStore):
    """The embedded default: one SQLite file, safe for a web server and Dagster to share (WAL);
    created with its table on first use."""

    def __init__(self, path: str | Path, salt: str | None = None) -> None:
        super().__init__(salt)
        self.path = str(path)

    def secret_salt(self) -> str:
        """Without a configured salt, one is generated next to the database (mode 0600), so an
        embedded installation hashes user ids from the start and no salt sits in config."""
        if self.salt:
            return self.salt
        salt_file = Path(f"{self.path}.salt")
        if not salt_file.exists():
            salt_file.parent.mkdir(parents=True, exist_ok=True)
            draft = salt_file.with_name(f"{salt_file.name}.{secrets.token_hex(4)}")
            draft.touch(mode=0o600)
            draft.write_text(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(draft, salt_file)  # atomic: a concurrent writer's salt wins, never half
            draft.unlink()
        return salt_file.read_text().strip()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()

    def write(self, rows: list[StoredFeedback]) -> int:
        params = []
        for row in rows:
            values = [
                row.feedback_id,
                row.generation_id,
                row.model_version,
                row.prompt,
                row.response,
                row.rating,
                row.user_hash,
                row.channel,
                as_utc(row.created_at).strftime(_TIME_FORMAT),
            ]
            params.append(values + values)
        with self._connect() as connection:
            before = connection.total_changes
            connection.executemany(_UPSERT, params)
            return connection.total_changes - before

    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        with self._connect() as connection:
            connection.row_factory = sqlite3.Row
            found = connection.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback WHERE seq > ? ORDER BY seq LIMIT ?",
                (cursor, limit),
            ).fetchall()
        rows = rows_to_frame(dict(row) for row in found)
        return FeedbackBatch(rows=rows, cursor=int(rows["seq"].max()) if len(rows) else cursor)

    def read_all(self) -> pd.DataFrame:
        with self._connect() as connection:
            connection.row_factory = sqlite3.Row
            found = connection.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY seq"
            ).fetchall()
        return rows_to_frame(dict(row) for row in found)

    def stats(self) -> FeedbackStats:
        with self._connect() as connection:
            count, newest, max_seq = connection.execute(
                "SELECT COUNT(*), MAX(created_at), COALESCE(MAX(seq), 0) FROM feedback"
            ).fetchone()
        return FeedbackStats(
            count=int(count),
            newest_created_at=datetime.fromisoformat(newest) if newest else None,
            max_seq=int(max_seq),
        )
