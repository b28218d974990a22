"""The SQLite feedback store: idempotent writes, cursor reads, hashed users, observation stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from eswi_assets.resources.feedback_store import Feedback, SqliteFeedbackStore

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def feedback(n: int, rating: int = 4, user: str = "U123", **extra) -> Feedback:
    return Feedback(
        feedback_id=f"f{n}",
        generation_id=f"g{n}",
        model_version="ppo_model/run-1",
        prompt="社區長照",
        response="志工很熱心。",
        rating=rating,
        user_id=user,
        channel="line",
        created_at=T0 + timedelta(minutes=n),
        **extra,
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteFeedbackStore:
    return SqliteFeedbackStore(path=str(tmp_path / "fb.sqlite"), salt="pepper")


def test_resending_the_same_feedback_does_not_duplicate_or_move_it(store):
    assert store.upsert([feedback(1), feedback(2)]) == 2
    assert store.upsert([feedback(1)]) == 0
    rows = store.read_all()
    assert list(rows["feedback_id"]) == ["f1", "f2"]
    assert list(rows["seq"]) == [1, 2]


def test_changed_rating_replaces_row_and_moves_it_past_the_cursor(store):
    store.upsert([feedback(1, rating=2), feedback(2)])
    cursor = store.read_after(0).cursor
    assert store.upsert([feedback(1, rating=5)]) == 1
    batch = store.read_after(cursor)
    assert list(batch.rows["feedback_id"]) == ["f1"]
    assert batch.rows["rating"].tolist() == [5]
    assert len(store.read_all()) == 2


def test_read_after_pages_through_rows_without_gaps_or_repeats(store):
    store.upsert([feedback(n) for n in range(7)])
    seen, cursor = [], 0
    while len(batch := store.read_after(cursor, limit=3).rows):
        seen += batch["feedback_id"].tolist()
        cursor = store.read_after(cursor, limit=3).cursor
    assert seen == [f"f{n}" for n in range(7)]
    assert store.read_after(cursor).cursor == cursor


def test_user_ids_are_stored_only_as_salted_hashes(store, tmp_path):
    store.upsert([feedback(1, user="U-secret-id")])
    stored = store.read_all()["user_hash"].iloc[0]
    assert "U-secret-id" not in stored
    assert b"U-secret-id" not in (tmp_path / "fb.sqlite").read_bytes()
    other_salt = SqliteFeedbackStore(path=store.path, salt="other")
    assert other_salt.hash_user("U-secret-id") != stored == store.hash_user("U-secret-id")


def test_without_a_configured_salt_one_is_generated_privately_and_kept(tmp_path):
    path = str(tmp_path / "fb.sqlite")
    first = SqliteFeedbackStore(path=path).hash_user("U1")
    salt_file = tmp_path / "fb.sqlite.salt"
    assert salt_file.stat().st_mode & 0o777 == 0o600
    assert len(salt_file.read_text()) == 64
    assert SqliteFeedbackStore(path=path).hash_user("U1") == first
    assert SqliteFeedbackStore(path=str(tmp_path / "other.sqlite")).hash_user("U1") != first
    assert not list(tmp_path.glob("*.salt.*"))  # no draft left behind


def test_stats_report_count_and_newest_time(store):
    assert store.stats().count == 0
    assert store.stats().newest_created_at is None
    store.upsert([feedback(3), feedback(1)])
    stats = store.stats()
    assert stats.count == 2
    assert stats.newest_created_at == T0 + timedelta(minutes=3)
    assert stats.max_seq == 2


def test_times_are_converted_to_utc_and_come_back_naive(store):
    taipei = timezone(timedelta(hours=8))
    store.upsert([feedback(1).model_copy(update={"created_at": datetime(2026, 11, 2, 16, 0)})])
    store.upsert(
        [
            Feedback(
                **{
                    **feedback(2).model_dump(),
                    "created_at": datetime(2026, 11, 2, 16, 0, tzinfo=taipei),
                }
            )
        ]
    )
    assert store.read_all()["created_at"].tolist() == [
        datetime(2026, 11, 2, 16, 0),
        datetime(2026, 11, 2, 8, 0),
    ]


def test_invalid_feedback_is_rejected_before_storage():
    with pytest.raises(ValidationError):
        feedback(1, rating=6)
    with pytest.raises(ValidationError):
        Feedback.model_validate({**feedback(1).model_dump(), "channel": "email"})
