"""`rating_table`: interval statistics on constructed ratings, and the asset over the stores of
the local profile."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from eswi_assets.assets.feedback import build_feedback_assets
from eswi_assets.assets.ratings import build_rating_assets
from eswi_assets.evaluation.ratings import (
    COLUMNS,
    CONFIDENCE,
    choose_baseline,
    rating_decision,
    rating_table,
)
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Profile, Settings
from eswi_assets.stores.elasticsearch.frames import to_documents
from eswi_assets.stores.elasticsearch.index import IndexTemplate, check_columns
from eswi_assets_tests.ab_streams import BASELINE as SFT
from eswi_assets_tests.ab_streams import CANDIDATE as PPO
from eswi_assets_tests.ab_streams import rating_stream
from eswi_assets_tests.feedback_frames import FrameFeedbackStore, feedback_frame, rating_rows

START = datetime(2026, 11, 20)  # naive UTC, as the store returns times


def ratings(version: str, values: list[int], users: list[str] | None = None, start=START):
    rows = rating_rows(version, values, users)
    for i, rated in enumerate(rows):
        rated["created_at"] = start + timedelta(minutes=i)
    return rows


def frame(*parts: list[dict]) -> pd.DataFrame:
    """Parts interleaved by time, so `first_seq` follows arrival as the store numbers it."""
    rows = sorted((r for part in parts for r in part), key=lambda r: r["created_at"])
    return feedback_frame(rows)


def row(table: pd.DataFrame, version: str) -> pd.Series:
    return table.set_index("model_version").loc[version]


def test_all_fives_against_all_ones_is_better_and_the_reverse_is_worse():
    feedback = frame(ratings(PPO, [5] * 60), ratings(SFT, [1] * 60))
    table = rating_table(feedback)
    ppo = row(table, PPO)
    assert ppo["verdict"] == "better"
    assert ppo["diff_vs_baseline"] == ppo["diff_low"] == ppo["diff_high"] == 4
    assert ppo["baseline_version"] == SFT
    assert row(table, SFT)["verdict"] == "baseline"

    flipped = frame(ratings(PPO, [1] * 60), ratings(SFT, [5] * 60))
    assert row(rating_table(flipped), PPO)["verdict"] == "worse"


def test_fewer_ratings_than_the_minimum_give_no_verdict_however_large_the_gap():
    feedback = frame(ratings(PPO, [5] * 5), ratings(SFT, [1] * 60))
    assert row(rating_table(feedback), PPO)["verdict"] == "not enough data"
    feedback = frame(ratings(PPO, [5] * 60), ratings(SFT, [1] * 5))
    assert row(rating_table(feedback), PPO)["verdict"] == "not enough data"


def test_one_user_per_side_is_not_enough_however_many_ratings_they_give():
    """30 fives by one user against 30 threes by another: the old rule said "better" with an
    interval of [2, 2]; two people are no evidence about users."""
    feedback = frame(ratings(PPO, [5] * 30, ["fan"] * 30), ratings(SFT, [3] * 30, ["critic"] * 30))
    ppo = row(rating_table(feedback, min_users=20, min_ratings=30), PPO)
    assert ppo["verdict"] == "not enough data"
    assert ppo["n_users"] == 1 and pd.isna(ppo["decided_at"])


def test_the_verdict_is_taken_once_at_the_horizon_and_later_ratings_do_not_change_it():
    before = frame(ratings(PPO, [5, 4] * 15), ratings(SFT, [2, 3] * 15))
    later = ratings(SFT, [5] * 200, start=START + timedelta(days=1))
    decided = row(rating_table(before, min_users=20, min_ratings=20), PPO)
    after = row(
        rating_table(frame(*[before.to_dict("records")], later), min_users=20, min_ratings=20), PPO
    )
    assert decided["verdict"] == after["verdict"] == "better"
    assert after["decided_at"] == decided["decided_at"]
    assert after["diff_low"] == decided["diff_low"]
    # the current figures do move: the baseline's mean now includes the 200 fives
    assert row(rating_table(frame(*[before.to_dict("records")], later)), SFT)["mean_rating"] > 4


def test_the_same_rating_distribution_gives_no_clear_difference():
    rng = np.random.default_rng(7)
    same = np.array([3, 4, 5, 2, 4] * 60)
    feedback = frame(
        ratings(PPO, list(rng.permutation(same))), ratings(SFT, list(rng.permutation(same)))
    )
    ppo = row(rating_table(feedback, min_ratings=300), PPO)
    assert ppo["diff_low"] < 0 < ppo["diff_high"]
    assert ppo["diff_high"] - ppo["diff_low"] < 0.5
    assert ppo["verdict"] == "no clear difference"


def verdicts_at_every_look(ratings: pd.DataFrame) -> set[str]:
    """The verdict read after each rating of the stream, as the sensor-driven table is, with
    the default horizon. Past the first verdict only the last look is read again: the verdict
    is frozen from then on (test_the_verdict_is_taken_once_...), and the last look checks it."""
    seen = set()
    for n in range(1, len(ratings) + 1):
        seen.add(rating_decision(ratings.iloc[:n], PPO, SFT, 20, 50, 200, 0).verdict)
        if seen - {"not enough data"}:
            last = rating_decision(ratings, PPO, SFT, 20, 50, 200, 0).verdict
            assert seen - {"not enough data"} == {last}
            break
    return seen


def test_an_aa_test_read_after_every_rating_declares_a_difference_about_alpha_of_the_time():
    """200 seeded A/A tests (60 users each, sticky sides, their own biases), read after every
    rating: the old rule (an interval recomputed at every look) declared a difference in far
    more than alpha of them (benchmarks/bench_ab_peeking.py)."""
    rng = np.random.default_rng(2026)
    simulations, alpha = 200, 1 - CONFIDENCE
    false_alarms = sum(
        bool({"better", "worse"} & verdicts_at_every_look(rating_stream(rng, 60, 0.0)))
        for _ in range(simulations)
    )
    assert false_alarms / simulations <= 2 * alpha


def test_a_real_difference_with_enough_users_is_detected():
    rng = np.random.default_rng(11)
    stream = rating_stream(rng, 120, 1.0)
    feedback = feedback_frame(stream.to_dict("records"))
    assert row(rating_table(feedback), PPO)["verdict"] == "better"


def test_the_thumbs_up_interval_resamples_users_not_single_ratings():
    """One enthusiast's 60 fives and 20 users' single ones: counting ratings as independent
    would give a narrow interval around 0.75 (Wilson: [0.65, 0.83])."""
    feedback = frame(
        ratings(PPO, [5] * 60 + [1] * 20, ["enthusiast"] * 60 + [f"u{i}" for i in range(20)])
    )
    ppo = row(rating_table(feedback), PPO)
    assert ppo["thumbs_up_rate"] == 0.75
    assert ppo["thumbs_up_low"] <= 0.2 and ppo["thumbs_up_high"] >= 0.9
    many = frame(ratings(PPO, [5] * 8 + [2] * 2))  # ten users, one rating each
    ppo = row(rating_table(many), PPO)
    assert 0.4 < ppo["thumbs_up_low"] < 0.8 < ppo["thumbs_up_high"] <= 1


def test_the_mean_interval_resamples_users_not_single_ratings():
    """One enthusiast's 60 fives and 20 users' single ones: resampling ratings would give a
    narrow interval around 4; resampling users shows how much rests on one person."""
    feedback = frame(
        ratings(PPO, [5] * 60 + [1] * 20, ["enthusiast"] * 60 + [f"u{i}" for i in range(20)])
    )
    ppo = row(rating_table(feedback), PPO)
    assert ppo["mean_rating"] == 4.0
    assert ppo["n_users"] == 21
    assert ppo["mean_low"] <= 1.5 and ppo["mean_high"] >= 4.5


def comparisons(n: int, users: int, candidate_wins: float, rng: np.random.Generator) -> list[dict]:
    """`n` comparisons of PPO against SFT by `users` users, order randomised as served."""
    rows = []
    for i in range(n):
        ppo_first = rng.random() < 0.5
        ppo_won = rng.random() < candidate_wins
        rows.append(
            {
                "kind": "comparison",
                "model_version": PPO if ppo_first else SFT,
                "other_model_version": SFT if ppo_first else PPO,
                "response": "甲",
                "other_response": "乙",
                "choice": "both_bad"
                if i % 10 == 0
                else ("first" if ppo_won == ppo_first else "second"),
                "user_hash": f"c{i % users}",
                "created_at": (START + timedelta(minutes=i)),
            }
        )
    return rows


def test_comparisons_give_a_win_rate_against_the_baseline_with_a_user_interval():
    rng = np.random.default_rng(3)
    feedback = frame(ratings(SFT, [3] * 5), comparisons(200, 40, 0.8, rng))
    ppo = row(rating_table(feedback), PPO)
    assert ppo["n_comparisons"] == 200 and ppo["comparison_users"] == 40
    assert 0.7 < ppo["win_rate"] < 0.9
    assert 0.5 < ppo["win_low"] < ppo["win_rate"] < ppo["win_high"]
    assert ppo["comparison_verdict"] == "better"
    assert ppo["verdict"] == "not enough data" and ppo["n_ratings"] == 0

    few_users = frame(ratings(SFT, [3] * 5), comparisons(200, 3, 0.8, rng))
    assert row(rating_table(few_users), PPO)["comparison_verdict"] == "not enough data"


def test_intervals_are_reproducible_and_unaffected_by_other_versions():
    feedback = frame(ratings(PPO, [5, 4, 2, 3, 5] * 10), ratings(SFT, [3, 2, 4] * 15))
    first = rating_table(feedback)
    pd.testing.assert_frame_equal(first, rating_table(feedback))
    later = ratings("ppo_model/run-3", [4] * 30, start=START + timedelta(days=1))
    more = rating_table(frame(*[feedback.to_dict("records")], later))
    assert row(more, PPO)[["mean_low", "mean_high"]].tolist() == (
        row(first, PPO)[["mean_low", "mean_high"]].tolist()
    )
    assert more["model_version"].tolist() == [PPO, SFT, "ppo_model/run-3"]


def test_the_baseline_is_the_most_recently_rated_version_of_the_baseline_asset():
    old = ratings("sft_model/old", [2] * 3, start=START)
    new = ratings("sft_model/new", [3] * 3, start=START + timedelta(days=2))
    ppo = ratings(PPO, [4] * 3, start=START + timedelta(days=3))
    assert choose_baseline(frame(new, old, ppo), "sft_model") == "sft_model/new"
    assert choose_baseline(frame(ppo), "sft_model") is None
    assert (
        row(rating_table(frame(ppo), min_users=1, min_ratings=1), PPO)["verdict"] == "no baseline"
    )


def test_no_ratings_give_an_empty_table_with_every_column():
    table = rating_table(feedback_frame([]))
    assert table.empty and list(table.columns) == COLUMNS


def test_the_elasticsearch_template_maps_every_column_in_order():
    template = IndexTemplate.load("rating_table")
    assert template.columns == COLUMNS
    check_columns(COLUMNS, template)


def test_the_asset_summarises_the_feedback_store_into_the_local_profile_io_manager(tmp_path):
    settings = Settings(data_dir=tmp_path)
    resources = build_resources(settings)
    store = FrameFeedbackStore(
        frame(ratings(PPO, [5, 4, 5, 4, 5] * 12), ratings(SFT, [2, 3, 1, 2] * 15))
    )
    [asset] = build_rating_assets(settings)

    result = dg.materialize(
        [asset],
        resources={"feedback_store": store, "io_manager": resources["io_manager"]},
        run_config={"ops": {"rating_table": {"config": {"bootstrap_samples": 500}}}},
    )

    assert result.success
    table = result.output_for_node("rating_table")
    assert row(table, PPO)["verdict"] == "better"
    metadata = result.asset_materializations_for_node("rating_table")[0].metadata
    assert metadata["latest_ppo_verdict"].value == "better"
    assert metadata["verdict_rule"].value.startswith("fixed horizon: no verdict until both sides")
    assert "20 users and 50 ratings" in metadata["verdict_rule"].value
    assert "| model_version" in metadata["table"].value
    assert metadata["plot"].value.startswith("![mean rating per model version](data:image/png")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as connection:
        stored = connection.sql("SELECT * FROM eswi.rating_table").df()
    assert list(stored.columns) == COLUMNS
    assert row(stored, PPO)["verdict"] == "better"
    assert row(stored, SFT)["verdict"] == "baseline"


def test_the_asset_depends_on_the_ppo_model_and_user_feedback():
    [asset] = build_rating_assets(Settings())
    assert {key.to_user_string() for key in asset.dependency_keys} == {
        "ppo_model",
        "user_feedback",
    }
    assert asset.group_names_by_key[dg.AssetKey("rating_table")] == "models"


def test_a_table_with_missing_values_becomes_elasticsearch_documents():
    table = rating_table(frame(ratings(PPO, [4, 5, 3])), min_users=1, min_ratings=1)  # NaN, None
    documents = to_documents(table, IndexTemplate.load("rating_table"), namespace="rating_table")
    [document] = documents
    assert document.source["baseline_version"] is None
    assert document.source["diff_low"] is None
    assert document.source["verdict"] == "no baseline"


@pytest.mark.parametrize("profile", list(Profile))
def test_the_asset_loads_with_the_resources_of_every_profile(profile, tmp_path):
    settings = Settings(profile=profile, data_dir=tmp_path)
    defs = dg.Definitions(
        assets=[*build_feedback_assets(settings), *build_rating_assets(settings)],
        resources=build_resources(settings),
    )
    dg.Definitions.validate_loadable(defs)
