"""What every feedback store promises, checked on each backend (SQLite, and a real Elasticsearch):
idempotent by feedback_id, a seq cursor that never skips or repeats, first_seq that stays with a
re-rated unit, comparisons, unrated units kept out of every frame, the last of concurrent
verdicts stored, the serving state (assignments, LINE event ids, pruning), observation stats
and UTC times. Backend-specific behaviour is tested beside each backend."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from eswi_assets.stores.elasticsearch.connection import ElasticsearchConnection
from eswi_assets.stores.elasticsearch.feedback import ElasticsearchFeedbackStore
from eswi_assets.stores.feedback import (
    COLUMNS,
    Feedback,
    FeedbackStore,
    Unit,
    Verdict,
    rows_to_frame,
)
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore
from eswi_assets_tests.stores import T0, drop_prefixed, feedback


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeedbackStore]:
    if request.param == "sqlite":
        yield SqliteFeedbackStore(path=str(tmp_path / "fb.sqlite"), salt="pepper")
        return
    es_url = request.getfixturevalue("es_url")
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    yield ElasticsearchFeedbackStore(ElasticsearchConnection(es_url, index_prefix=prefix), "pepper")
    with Elasticsearch(es_url, request_timeout=60) as es:
        drop_prefixed(es, prefix)


def generation(n: int, served_at: datetime = T0) -> Unit:
    return Unit(
        feedback_id=f"g{n}",
        kind="rating",
        generation_id=f"g{n}",
        model_version="ppo_model/run-1",
        variant="candidate",
        prompt="標題：社區長照",
        response=f"回答{n}",
        user_hash="h1",
        channel="line",
        served_at=served_at,
        token_hash="t",
    )


def comparison(n: int) -> Unit:
    return dataclasses.replace(
        generation(n),
        feedback_id=f"c{n}",
        kind="comparison",
        generation_id=f"c{n}-a",
        model_version="sft_model/run-1",
        variant="baseline",
        response="基準的回答",
        other_generation_id=f"c{n}-b",
        other_model_version="ppo_model/run-1",
        other_variant="candidate",
        other_response="候選的回答",
        user_hash="h2",
        channel="api",
    )


def test_resending_the_same_feedback_does_not_duplicate_or_move_it(store):
    assert store.upsert([feedback(1), feedback(2)]) == 2
    assert store.upsert([feedback(1)]) == 0
    rows = store.read_all()
    assert list(rows["feedback_id"]) == ["f1", "f2"]
    assert list(rows["seq"]) == [1, 2]
    assert list(rows["first_seq"]) == [1, 2]
    assert list(rows["kind"]) == ["rating", "rating"]


def test_changed_rating_moves_past_the_cursor_and_keeps_its_first_seq(store):
    store.upsert([feedback(1, rating=2), feedback(2)])
    cursor = store.read_after(0).cursor
    first = store.read_all().set_index("feedback_id").loc["f1", "seq"]
    assert store.upsert([feedback(1, rating=5)]) == 1
    assert store.upsert([feedback(1, rating=3)]) == 1
    batch = store.read_after(cursor)
    assert list(batch.rows["feedback_id"]) == ["f1"]
    assert batch.rows["rating"].tolist() == [3]
    assert batch.rows["first_seq"].tolist() == [first]
    assert batch.rows["seq"].iloc[0] > cursor
    assert len(store.read_all()) == 2
    assert store.read_after(batch.cursor).rows.empty


def test_read_after_pages_through_rows_without_gaps_or_repeats(store):
    store.upsert([feedback(n) for n in range(7)])
    seen, cursor = [], 0
    while len((batch := store.read_after(cursor, limit=3)).rows):
        seen += batch.rows["feedback_id"].tolist()
        cursor = batch.cursor
    assert seen == [f"f{n}" for n in range(7)]
    assert store.read_after(cursor).cursor == cursor


def test_unrated_units_stay_out_of_frames_and_stats_until_rated(store):
    assert store.add_unit(generation(1))
    assert not store.add_unit(generation(1))
    assert store.read_all().empty
    assert store.read_after(0).rows.empty
    assert store.stats().count == 0

    stored = store.record("g1", Verdict(at=T0 + timedelta(minutes=1), rating=4, comment="好"))
    assert stored.changed and stored.first_seq == stored.seq
    [row] = store.read_all().to_dict("records")
    assert row["seq"] == stored.seq == store.stats().max_seq
    assert (row["rating"], row["response"], row["channel"], row["user_hash"]) == (
        4,
        "回答1",
        "line",
        "h1",
    )
    assert row["other_generation_id"] is None and row["choice"] is None
    assert store.unit("g1").comment == "好"
    assert store.record("g1", Verdict(at=T0 + timedelta(minutes=2), rating=4)).changed is False
    assert store.record("unknown", Verdict(at=T0, rating=4)) is None


def test_a_comparison_choice_is_one_unit_with_both_answers(store):
    store.add_unit(comparison(1))
    stored = store.record("c1", Verdict(at=T0, choice="second"))
    frame = store.read_all()
    assert str(frame["rating"].dtype) == "Int64" and frame["rating"].isna().all()
    [row] = frame.to_dict("records")
    assert row["kind"] == "comparison"
    assert (row["generation_id"], row["other_generation_id"]) == ("c1-a", "c1-b")
    assert (row["model_version"], row["other_model_version"]) == (
        "sft_model/run-1",
        "ppo_model/run-1",
    )
    assert (row["response"], row["other_response"]) == ("基準的回答", "候選的回答")
    assert row["choice"] == "second"
    assert row["seq"] == row["first_seq"] == stored.seq
    with pytest.raises(ValueError):
        store.record("c1", Verdict(at=T0, rating=3))


def test_of_concurrent_verdicts_the_last_acknowledged_is_stored(store):
    store.add_unit(generation(1))
    ratings = [1 + n % 5 for n in range(24)]

    def rate(value: int):
        return value, store.record("g1", Verdict(at=datetime.now(UTC), rating=value))

    with ThreadPoolExecutor(8) as pool:
        acknowledged = list(pool.map(rate, ratings))
    value, last = max(acknowledged, key=lambda pair: pair[1].seq)
    [row] = store.read_all().to_dict("records")
    assert (row["rating"], row["seq"]) == (value, last.seq)
    firsts = {stored.first_seq for _, stored in acknowledged}
    assert firsts == {row["first_seq"]} and row["first_seq"] == min(s.seq for _, s in acknowledged)


def test_assignments_and_line_events_are_shared_state(store):
    store.record_assignment("exp", "h1", "candidate")
    store.record_assignment("exp", "h2", "baseline")
    store.record_assignment("exp", "h1", "baseline")
    store.record_assignment("other", "h1", "candidate")
    assert store.assignments("exp") == {"h1": "baseline", "h2": "baseline"}
    assert store.first_delivery("E1") is True
    assert store.first_delivery("E1") is False
    assert store.first_delivery("E2") is True


def test_prune_drops_old_unrated_units_and_keeps_rated_ones(store):
    old = datetime.now(UTC) - timedelta(days=40)
    store.add_unit(generation(1, served_at=old))
    store.add_unit(generation(2, served_at=old))
    store.add_unit(generation(3, served_at=datetime.now(UTC)))
    store.record("g2", Verdict(at=old, rating=5))
    assert store.prune(timedelta(days=30)) == 1
    assert store.unit("g1") is None
    assert store.unit("g2").rating == 5 and store.unit("g3") is not None
    assert store.read_all()["feedback_id"].tolist() == ["g2"]


def test_stats_report_count_newest_time_and_max_seq(store):
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
    aware = datetime(2026, 11, 2, 16, 0, tzinfo=taipei)
    store.upsert([Feedback(**{**feedback(2).model_dump(), "created_at": aware})])
    assert store.read_all()["created_at"].tolist() == [
        datetime(2026, 11, 2, 16, 0),
        datetime(2026, 11, 2, 8, 0),
    ]


def test_rows_to_frame_gives_the_contract_dtypes_also_when_empty():
    for frame in [rows_to_frame([]), rows_to_frame([{"seq": 3, "rating": 4, "created_at": T0}])]:
        assert list(frame.columns) == COLUMNS
        assert str(frame["seq"].dtype) == str(frame["first_seq"].dtype) == "int64"
        assert str(frame["rating"].dtype) == "Int64"
        assert str(frame["created_at"].dtype) == "datetime64[ns]"
    row = rows_to_frame([{"seq": 3, "rating": 4, "created_at": T0}]).iloc[0]
    assert (row["first_seq"], row["kind"], row["choice"]) == (3, "rating", None)
