"""Where end users' feedback lands, and the serving app's store of record: the app keeps every
answer it serves here (a *unit*: one generation to rate, or one comparison of two answers to
choose between), the user's rating or choice is an update of that unit, `user_feedback` observes
the rated units, training reads them, and a sensor reads what is new after a cursor.

`FeedbackStore` is the interface (plain code: the serving app uses it as it is, Dagster through
`eswi_assets.resources.feedback_store`, so assets and sensors name a key, never a backend);
`SqliteFeedbackStore` is the embedded default. Raw user ids never reach a backend: callers pass
`hash_user(user_id)`, a salted sha256 whose salt is a secret (`dg.EnvVar` in Dagster, the
environment in serving).

A rating is one write of the unit's own record (one SQLite transaction, or one Elasticsearch
document version written with optimistic concurrency), so the rating and the generation it
rates can never disagree and, under concurrency, the last acknowledged rating is the stored one.
The serving state that is not feedback (A/B assignments, LINE webhook event ids already seen)
lives beside the units in the same store, so every replica of the app shares it.

Every rated unit carries `seq`, a number that only grows: a new rating, or a changed one, gets a
larger `seq` than anything before it, so "rows after cursor N" never rescans and never misses.
`first_seq` is the `seq` of the unit's first rating, so a re-rating is recognisable as one.
Re-sending an identical rating is a no-op (it keeps its `seq`). Unrated units never appear in a
frame.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["api", "line"]
Kind = Literal["rating", "comparison"]
Choice = Literal["first", "second", "both_bad"]
CHOICES: tuple[Choice, ...] = ("first", "second", "both_bad")

# Column order of every frame a store returns (ARCHITECTURE.md `user_feedback`).
COLUMNS = [
    "seq",
    "first_seq",
    "feedback_id",
    "kind",
    "generation_id",
    "model_version",
    "prompt",
    "response",
    "rating",
    "other_generation_id",
    "other_model_version",
    "other_response",
    "choice",
    "user_hash",
    "channel",
    "created_at",
]
_OPTIONAL = ("other_generation_id", "other_model_version", "other_response", "choice")


class Feedback(BaseModel):
    """One rating imported as it is (tests, backfills); `user_id` is raw and is hashed before
    storage. The serving app stores units and their ratings through `add_unit` and `record`."""

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
class Unit:
    """One served unit as a backend keeps it: a generation (kind "rating") or two answers to
    one prompt (kind "comparison", `generation_id` the answer shown first). `created_at` is the
    time of the latest rating or choice, None while unrated; `token_hash` is the sha256 of the
    feedback token handed to the user who was served (None for imported ratings)."""

    feedback_id: str
    kind: Kind
    generation_id: str
    model_version: str
    prompt: str
    response: str
    user_hash: str
    channel: str
    served_at: datetime
    variant: str | None = None
    other_generation_id: str | None = None
    other_model_version: str | None = None
    other_variant: str | None = None
    other_response: str | None = None
    token_hash: str | None = None
    rating: int | None = None
    choice: str | None = None
    comment: str | None = None
    created_at: datetime | None = None
    seq: int = 0
    first_seq: int | None = None

    @property
    def rated(self) -> bool:
        return self.created_at is not None


@dataclass(frozen=True)
class Verdict:
    """A user's rating (kind "rating") or choice (kind "comparison"), given at `at`."""

    at: datetime
    rating: int | None = None
    choice: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Stored:
    """What `record` did: `changed` is False for a re-sent identical verdict; `seq` is the
    version of the unit that now holds it."""

    changed: bool
    seq: int
    first_seq: int
    created_at: datetime


@dataclass(frozen=True)
class FeedbackBatch:
    """Rows after a cursor; `cursor` is the `seq` to pass next time (unchanged when none)."""

    rows: pd.DataFrame
    cursor: int


@dataclass(frozen=True)
class FeedbackStats:
    """What an observation of `user_feedback` reports (rated units only)."""

    count: int
    newest_created_at: datetime | None
    max_seq: int


def as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware times are converted, so rows sort by real time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hash_user_id(user_id: str, salt: str) -> str:
    """Salted sha256: stable per user (for A/B stickiness) yet not reversible without the salt."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


def hash_token(token: str) -> str:
    """Tokens are stored hashed: whoever reads the store cannot rate in a user's name."""
    return hashlib.sha256(token.encode()).hexdigest()


def applied(unit: Unit, verdict: Verdict) -> Unit | None:
    """The unit holding `verdict`, or None when it holds it already (an identical re-send,
    or the same rating without a comment). The first rating leaves `first_seq` unset (it is the
    unit's `seq` then); a later one carries the seq of the version that holds the first."""
    if (verdict.rating is None) != (unit.kind == "comparison") or (
        verdict.choice is not None and verdict.choice not in CHOICES
    ):
        raise ValueError(
            f"a {unit.kind} unit takes a {'choice' if verdict.rating is None else 'rating'}"
        )
    if (
        unit.rated
        and (unit.rating, unit.choice) == (verdict.rating, verdict.choice)
        and verdict.comment in (None, unit.comment)
    ):
        return None
    first_seq = unit.first_seq if unit.first_seq is not None else unit.seq if unit.rated else None
    return dataclasses.replace(
        unit,
        rating=verdict.rating,
        choice=verdict.choice,
        comment=verdict.comment,
        created_at=as_utc(verdict.at),
        first_seq=first_seq,
    )


def unchanged(unit: Unit) -> Stored:
    assert unit.created_at is not None
    first_seq = unit.first_seq if unit.first_seq is not None else unit.seq
    return Stored(False, unit.seq, first_seq, unit.created_at)


class FeedbackStore(abc.ABC):
    """The feedback-store interface: units and their verdicts, the frame of rated units, and
    the serving state every replica shares (assignments, seen LINE webhook events)."""

    def __init__(self, salt: str | None = None) -> None:
        self.salt = salt  # secret salt for user-id hashes

    def close(self) -> None:  # noqa: B027 - a hook: most backends hold nothing open
        """Release what the backend holds open between calls (none by default)."""

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
        changed = 0
        for item in feedback:
            unit = Unit(
                feedback_id=item.feedback_id,
                kind="rating",
                generation_id=item.generation_id,
                model_version=item.model_version,
                prompt=item.prompt,
                response=item.response,
                user_hash=self.hash_user(item.user_id),
                channel=item.channel,
                served_at=as_utc(item.created_at),
                rating=item.rating,
                created_at=as_utc(item.created_at),
            )
            if self.add_unit(unit):
                changed += 1
                continue
            stored = self.record(item.feedback_id, Verdict(at=item.created_at, rating=item.rating))
            changed += bool(stored and stored.changed)
        return changed

    @abc.abstractmethod
    def add_unit(self, unit: Unit) -> bool:
        """Store a new unit (rated or not); False, and nothing written, when its id exists."""

    @abc.abstractmethod
    def unit(self, feedback_id: str) -> Unit | None:
        """The unit with this id, rated or not; None when unknown or pruned."""

    @abc.abstractmethod
    def record(self, feedback_id: str, verdict: Verdict) -> Stored | None:
        """Apply a verdict to a unit atomically (see `applied`); None when the unit is gone."""

    @abc.abstractmethod
    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        """Up to `limit` rated units with `seq` > `cursor`, oldest `seq` first."""

    @abc.abstractmethod
    def read_all(self) -> pd.DataFrame:
        """Every rated unit, in `seq` order (columns: COLUMNS)."""

    @abc.abstractmethod
    def stats(self) -> FeedbackStats:
        """Rated-unit count, newest `created_at` and the largest `seq` of a rated unit."""

    @abc.abstractmethod
    def record_assignment(self, experiment: str, user_hash: str, variant: str) -> None:
        """Keeps the first time a user got a variant; a changed split records the new one."""

    @abc.abstractmethod
    def assignments(self, experiment: str) -> dict[str, str]:
        """user hash -> variant, for auditing the split."""

    @abc.abstractmethod
    def first_delivery(self, webhook_event_id: str) -> bool:
        """True the first time an event id is seen (by any replica), False for redeliveries."""

    @abc.abstractmethod
    def prune(self, retention: timedelta) -> int:
        """Drops unrated units and LINE event ids older than `retention`; rated units stay
        (they are the feedback). Returns the count of units dropped."""


def rows_to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame with COLUMNS and stable dtypes (created_at: naive UTC; rating: Int64), also when
    empty. Missing optional keys become None / <NA>; a missing `kind` is "rating" and a missing
    `first_seq` is the row's `seq` (rows stored before comparisons existed)."""
    rows = []
    for record in records:
        row = {name: record.get(name) for name in COLUMNS}
        row["kind"] = row["kind"] or "rating"
        if row["first_seq"] is None:
            row["first_seq"] = row["seq"]
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["seq"] = df["seq"].astype("int64")
    df["first_seq"] = df["first_seq"].astype("int64")
    df["rating"] = df["rating"].astype("Int64")
    for name in _OPTIONAL:
        df[name] = df[name].astype(object).where(df[name].notna(), None)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601").dt.tz_localize(
        None
    )
    return df
