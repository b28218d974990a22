"""The embedded feedback store: one SQLite file, safe for the serving app and Dagster to share
(WAL). A rating is one `BEGIN IMMEDIATE` transaction that reads its unit and writes the new
version, so the rating and what it rates never disagree and the last acknowledged one is stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from eswi_assets.stores.feedback import (
    COLUMNS,
    FeedbackBatch,
    FeedbackStats,
    FeedbackStore,
    Stored,
    Unit,
    Verdict,
    applied,
    as_utc,
    rows_to_frame,
    unchanged,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback_units (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq INTEGER,
    feedback_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('rating', 'comparison')),
    generation_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    served_at TEXT NOT NULL,
    variant TEXT,
    other_generation_id TEXT,
    other_model_version TEXT,
    other_variant TEXT,
    other_response TEXT,
    token_hash TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    choice TEXT CHECK (choice IN ('first', 'second', 'both_bad')),
    comment TEXT,
    created_at TEXT
);
CREATE INDEX IF NOT EXISTS feedback_units_served_at ON feedback_units (served_at);
CREATE INDEX IF NOT EXISTS feedback_units_rated ON feedback_units (seq)
    WHERE created_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS assignments (
    experiment TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    variant TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (experiment, user_hash)
);
CREATE TABLE IF NOT EXISTS line_events (
    webhook_event_id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
"""

# Ratings stored before units existed (table `feedback`) move over once, keeping their seq, so a
# sensor's cursor stays valid; the old table is kept, renamed, rather than dropped.
_LEGACY_COPY = """
INSERT INTO feedback_units (seq, feedback_id, kind, generation_id, model_version, prompt,
    response, user_hash, channel, served_at, rating, created_at)
SELECT seq, feedback_id, 'rating', generation_id, model_version, prompt, response, user_hash,
    channel, created_at, rating, created_at
FROM feedback
"""

_UNIT_FIELDS = [field.name for field in dataclasses.fields(Unit) if field.name != "seq"]
_TIMES = ("served_at", "created_at")
# Fixed width, so SQL MAX() and ORDER BY on the text column follow time order.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
_INSERT = (
    f"INSERT INTO feedback_units ({', '.join(_UNIT_FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in _UNIT_FIELDS)})"
)
_RATED = "created_at IS NOT NULL"
# Idle connections kept per store: closing the last connection to a WAL file checkpoints and
# deletes the WAL, which made every autocommit write ~10x dearer than on an open connection.
_MAX_IDLE = 8


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).strftime(_TIME_FORMAT)


def _now() -> str:
    return _stamp(datetime.now(UTC))


class SqliteFeedbackStore(FeedbackStore):
    """The embedded default: one SQLite file, safe for a web server and Dagster to share (WAL);
    created with its tables on first use. Writes that read first run in BEGIN IMMEDIATE, so
    concurrent ratings of one unit apply one after another."""

    def __init__(self, path: str | Path, salt: str | None = None) -> None:
        super().__init__(salt)
        self.path = str(path)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._ready = False  # schema and legacy move done (once per store, not per call)
        self._pid = os.getpid()
        self._inherited: list[sqlite3.Connection] = []

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

    def close(self) -> None:
        """Close the idle connections; the next call opens a fresh one."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """An autocommit connection (each statement is its own transaction unless
        `_transaction`), taken from the idle ones and given back when no transaction is open."""
        connection = self._checkout()
        try:
            yield connection
        finally:
            self._release(connection)

    def _checkout(self) -> sqlite3.Connection:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child neither uses nor closes its parent's handles: closing one could
                # checkpoint the WAL under the parent's feet, so they stay referenced, unused.
                self._inherited.extend(self._idle)
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        try:
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")  # persistent in the file
                connection.executescript(_SCHEMA)
                _move_legacy_ratings(connection)
                self._ready = True
        except BaseException:
            connection.close()
            raise
        connection.row_factory = sqlite3.Row
        return connection

    def _release(self, connection: sqlite3.Connection) -> None:
        """Keep a clean connection for the next call; one left inside a transaction is closed."""
        with self._lock:
            if not connection.in_transaction and len(self._idle) < _MAX_IDLE:
                self._idle.append(connection)
                return
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

    def add_unit(self, unit: Unit) -> bool:
        with self._connect() as connection:
            try:
                connection.execute(_INSERT, _values(unit))
            except sqlite3.IntegrityError as error:
                if "UNIQUE" not in str(error):
                    raise
                return False
        return True

    def unit(self, feedback_id: str) -> Unit | None:
        with self._connect() as connection:
            return _unit(connection, feedback_id)

    def record(self, feedback_id: str, verdict: Verdict) -> Stored | None:
        with self._transaction() as connection:
            unit = _unit(connection, feedback_id)
            if unit is None:
                return None
            new = applied(unit, verdict)
            if new is None:
                return unchanged(unit)
            # Delete and insert: the unit gets a fresh AUTOINCREMENT seq (never reused).
            connection.execute("DELETE FROM feedback_units WHERE feedback_id = ?", (feedback_id,))
            seq = connection.execute(_INSERT, _values(new)).lastrowid
        assert new.created_at is not None and seq is not None
        return Stored(
            True, seq, new.first_seq if new.first_seq is not None else seq, new.created_at
        )

    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        rows = self._frame(f"WHERE {_RATED} AND seq > ? ORDER BY seq LIMIT ?", (cursor, limit))
        return FeedbackBatch(rows=rows, cursor=int(rows["seq"].max()) if len(rows) else cursor)

    def read_all(self) -> pd.DataFrame:
        return self._frame(f"WHERE {_RATED} ORDER BY seq", ())

    def _frame(self, where: str, params: tuple) -> pd.DataFrame:
        with self._connect() as connection:
            found = connection.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback_units {where}", params
            ).fetchall()
        return rows_to_frame(dict(row) for row in found)

    def stats(self) -> FeedbackStats:
        with self._connect() as connection:
            count, newest, max_seq = connection.execute(
                "SELECT COUNT(*), MAX(created_at), COALESCE(MAX(seq), 0) FROM feedback_units "
                f"WHERE {_RATED}"
            ).fetchone()
        return FeedbackStats(
            count=int(count),
            newest_created_at=datetime.fromisoformat(newest) if newest else None,
            max_seq=int(max_seq),
        )

    def record_assignment(self, experiment: str, user_hash: str, variant: str) -> None:
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
        return {row["user_hash"]: row["variant"] for row in rows}

    def first_delivery(self, webhook_event_id: str) -> bool:
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO line_events VALUES (?, ?)", (webhook_event_id, _now())
            )
            return cursor.rowcount == 1

    def prune(self, retention: timedelta) -> int:
        cutoff = _stamp(datetime.now(UTC) - retention)
        with self._connect() as connection:
            gone = connection.execute(
                f"DELETE FROM feedback_units WHERE NOT ({_RATED}) AND served_at < ?", (cutoff,)
            ).rowcount
            connection.execute("DELETE FROM line_events WHERE received_at < ?", (cutoff,))
        return gone


def _move_legacy_ratings(connection: sqlite3.Connection) -> None:
    legacy = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'"
    if connection.execute(legacy).fetchone() is None:
        return
    connection.execute("BEGIN IMMEDIATE")
    if connection.execute(legacy).fetchone() is not None:  # not moved by a concurrent writer
        connection.execute(_LEGACY_COPY)
        connection.execute("ALTER TABLE feedback RENAME TO feedback_before_units")
    connection.execute("COMMIT")


def _values(unit: Unit) -> list[Any]:
    return [
        _stamp(getattr(unit, name)) if name in _TIMES else getattr(unit, name)
        for name in _UNIT_FIELDS
    ]


def _unit(connection: sqlite3.Connection, feedback_id: str) -> Unit | None:
    row = connection.execute(
        f"SELECT seq, {', '.join(_UNIT_FIELDS)} FROM feedback_units WHERE feedback_id = ?",
        (feedback_id,),
    ).fetchone()
    if row is None:
        return None
    values = dict(row)
    for name in _TIMES:
        values[name] = datetime.fromisoformat(values[name]) if values[name] else None
    return Unit(**values)
