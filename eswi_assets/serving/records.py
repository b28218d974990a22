"""What the service must remember between requests, in one SQLite file next to the feedback db.

- generations: prompt, response, model version, variant and user hash of every answer, so a
  rating (minutes later over HTTP, or hours later from a LINE button) is stored with them;
- assignments: each user's A/B variant per experiment, for auditing the split;
- ratings: the time and comment of each user's rating of a generation, so a repeated rating is
  sent to the feedback store unchanged (a no-op there) and a comment is kept;
- line_events: webhook event ids already handled, so LINE's redeliveries are answered once.

SQLite rather than memory: a restart or a new version of the app must not turn pending rating
buttons into 404s, and several workers on one host share the file (WAL). Old generations are
pruned after a retention period, which bounds the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    generation_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    variant TEXT NOT NULL,
    model_version TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS generations_created_at ON generations (created_at);
CREATE TABLE IF NOT EXISTS assignments (
    experiment TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    variant TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (experiment, user_hash)
);
CREATE TABLE IF NOT EXISTS ratings (
    feedback_id TEXT PRIMARY KEY,
    rating INTEGER NOT NULL,
    comment TEXT,
    rated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS line_events (
    webhook_event_id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Generation:
    generation_id: str
    created_at: datetime
    user_hash: str
    channel: str
    variant: str
    model_version: str
    prompt: str
    response: str


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ServingRecords:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: read-then-write sequences of concurrent requests run one by one."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def add_generation(self, generation: Generation) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO generations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    generation.generation_id,
                    generation.created_at.isoformat(),
                    generation.user_hash,
                    generation.channel,
                    generation.variant,
                    generation.model_version,
                    generation.prompt,
                    generation.response,
                ),
            )

    def generation(self, generation_id: str) -> Generation | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM generations WHERE generation_id = ?", (generation_id,)
            ).fetchone()
        if row is None:
            return None
        return Generation(row[0], datetime.fromisoformat(row[1]), *row[2:])

    def record_assignment(self, experiment: str, user_hash: str, variant: str) -> None:
        """Keeps the first time a user got a variant; a changed split records the new one."""
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO assignments VALUES (?, ?, ?, ?) ON CONFLICT (experiment, user_hash) "
                "DO UPDATE SET variant = excluded.variant, assigned_at = excluded.assigned_at "
                "WHERE variant != excluded.variant",
                (experiment, user_hash, variant, _now()),
            )

    def assignments(self, experiment: str) -> dict[str, str]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT user_hash, variant FROM assignments WHERE experiment = ?", (experiment,)
            ).fetchall()
        return dict(rows)

    def stamp_rating(self, feedback_id: str, rating: int, comment: str | None) -> datetime:
        """The rating's time: unchanged when the same rating is sent again, now otherwise."""
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT rating, comment, rated_at FROM ratings WHERE feedback_id = ?",
                (feedback_id,),
            ).fetchone()
            if row is not None and row[0] == rating:
                if comment is not None and comment != row[1]:
                    connection.execute(
                        "UPDATE ratings SET comment = ? WHERE feedback_id = ?",
                        (comment, feedback_id),
                    )
                return datetime.fromisoformat(row[2])
            now = datetime.now(UTC)
            connection.execute(
                "INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?)",
                (feedback_id, rating, comment, now.isoformat()),
            )
            return now

    def first_delivery(self, webhook_event_id: str) -> bool:
        """True the first time an event id is seen, False for every redelivery."""
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO line_events VALUES (?, ?)", (webhook_event_id, _now())
            )
            return cursor.rowcount == 1

    def prune(self, retention: timedelta) -> int:
        """Drops generations (and LINE event ids) older than `retention`."""
        cutoff = (datetime.now(UTC) - retention).isoformat()
        with self._connect() as connection:
            gone = connection.execute(
                "DELETE FROM generations WHERE created_at < ?", (cutoff,)
            ).rowcount
            connection.execute("DELETE FROM line_events WHERE received_at < ?", (cutoff,))
        return gone
