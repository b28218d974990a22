"""What only the SQLite feedback store shows: hashed users in the file, its generated salt,
ratings of a file from before units carried over, and validation before storage (the shared
promises: test_feedback_store_contract)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from eswi_assets.stores.feedback import Feedback
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.stores import feedback


@pytest.fixture
def store(tmp_path: Path) -> SqliteFeedbackStore:
    return SqliteFeedbackStore(path=str(tmp_path / "fb.sqlite"), salt="pepper")


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


def test_invalid_feedback_is_rejected_before_storage():
    with pytest.raises(ValidationError):
        feedback(1, rating=6)
    with pytest.raises(ValidationError):
        Feedback.model_validate({**feedback(1).model_dump(), "channel": "email"})


def test_ratings_stored_before_units_existed_are_carried_over_with_their_seq(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE feedback (seq INTEGER PRIMARY KEY AUTOINCREMENT, feedback_id TEXT NOT "
            "NULL UNIQUE, generation_id TEXT NOT NULL, model_version TEXT NOT NULL, prompt TEXT "
            "NOT NULL, response TEXT NOT NULL, rating INTEGER NOT NULL, user_hash TEXT NOT NULL, "
            "channel TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO feedback VALUES (7, 'f1', 'g1', 'ppo_model/run-1', 'p', 'r', 4, 'h', "
            "'line', '2026-11-02T08:00:00.000000+00:00')"
        )
    store = SqliteFeedbackStore(path=str(path), salt="pepper")
    [row] = store.read_all().to_dict("records")
    assert (row["seq"], row["first_seq"], row["kind"], row["rating"]) == (7, 7, "rating", 4)
    store.upsert([feedback(2)])
    assert store.read_all()["seq"].tolist() == [7, 8]


def test_open_connections_see_each_others_writes_and_closing_folds_the_wal_back(tmp_path):
    path = tmp_path / "shared.sqlite"
    server, pipeline = (SqliteFeedbackStore(path=str(path), salt="pepper") for _ in range(2))
    server.upsert([feedback(1)])
    assert len(pipeline.read_all()) == 1  # the server's idle connection hides nothing
    server.record_assignment("exp", "h1", "candidate")
    assert pipeline.assignments("exp") == {"h1": "candidate"}
    assert Path(f"{path}-wal").exists()
    server.close()
    pipeline.close()
    assert not Path(f"{path}-wal").exists()  # the file alone holds every write
    assert len(SqliteFeedbackStore(path=str(path), salt="pepper").read_all()) == 1


def test_a_failed_transaction_is_rolled_back_before_its_connection_is_reused(store):
    with pytest.raises(RuntimeError), store._transaction() as connection:
        connection.execute("INSERT INTO line_events VALUES ('e1', 'then')")
        raise RuntimeError("a write that failed half-way")
    assert store.first_delivery("e1")  # the half-done insert did not stay
    assert store.first_delivery("e2") and not store.first_delivery("e2")
