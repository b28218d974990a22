"""A/B assignment: sticky per user, split as configured, recorded per experiment."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from eswi_assets.serving.experiments import assign, bucket

USERS = [f"user-{i}" for i in range(10_000)]


@pytest.mark.parametrize("share", [0.5, 0.2, 0.9])
def test_the_split_over_many_users_is_close_to_the_configured_share(share):
    candidates = sum(assign("salt", "exp", user, share) == "candidate" for user in USERS)
    # sd of the share at n=10k is at most 0.005: 0.03 is six of them.
    assert abs(candidates / len(USERS) - share) < 0.03


def test_a_user_keeps_the_variant_across_calls_and_processes():
    first = [assign("salt", "exp", user, 0.5) for user in USERS[:500]]
    again = [assign("salt", "exp", user, 0.5) for user in USERS[:500]]
    assert first == again
    # A fixed value: sha256 is the same in every process, unlike Python's salted hash().
    digest = hashlib.sha256(b"salt\x1fexp\x1fuser-1").digest()
    assert bucket("salt", "exp", "user-1") == int.from_bytes(digest[:8], "big") / 2**64


def test_another_salt_or_experiment_reshuffles_users():
    base = [assign("salt", "exp", user, 0.5) for user in USERS[:1000]]
    for salt, experiment in [("other-salt", "exp"), ("salt", "exp-2")]:
        other = [assign(salt, experiment, user, 0.5) for user in USERS[:1000]]
        moved = sum(a != b for a, b in zip(base, other, strict=True))
        assert 350 < moved < 650  # about half move: independent of the first assignment


def test_the_extremes_send_everyone_to_one_variant():
    assert {assign("salt", "exp", user, 1.0) for user in USERS[:1000]} == {"candidate"}
    assert {assign("salt", "exp", user, 0.0) for user in USERS[:1000]} == {"baseline"}


def test_the_service_serves_each_user_one_variant_and_records_the_assignment(live):
    service = live.app.state.service
    for user in ("ab-1", "ab-2", "ab-3", "ab-4"):
        variants = {
            httpx.post(
                f"{live.url}/v1/generate",
                json={"prompt": f"第{i}次", "user_id": user, "max_new_tokens": 4},
                timeout=60,
            ).json()["variant"]
            for i in range(3)
        }
        assert variants == {service.variant_for(user)}
        recorded = service.records.assignments(service.settings.experiment_name)
        assert recorded[live.feedback_store.hash_user(user)] == variants.pop()
