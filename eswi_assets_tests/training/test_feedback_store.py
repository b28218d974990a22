"""What only the SQLite feedback store shows: hashed users in the file, its generated salt, and
validation before storage (the shared promises: test_feedback_store_contract)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from eswi_assets.stores.feedback import Feedback, SqliteFeedbackStore
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
