"""`rating_table`: interval statistics on constructed ratings, and the asset over the stores of
the local profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from eswi_assets.assets.feedback import build_feedback_assets
from eswi_assets.assets.ratings import build_rating_assets
from eswi_assets.evaluation.ratings import COLUMNS, choose_baseline, rating_table
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Profile, Settings
from eswi_assets.stores import build as build_stores
from eswi_assets.stores.elasticsearch.frames import to_documents
from eswi_assets.stores.elasticsearch.index import IndexTemplate, check_columns
from eswi_assets.stores.feedback import Feedback

START = datetime(2026, 11, 20, tzinfo=UTC)
PPO, SFT = "ppo_model/run-2", "sft_model/run-1"


def ratings(version: str, values: list[int], users: list[str] | None = None, start=START):
    users = users or [f"{version}-user-{i}" for i in range(len(values))]
    return pd.DataFrame(
        {
            "model_version": version,
            "rating": values,
            "user_hash": users,
            "created_at": [start + timedelta(minutes=i) for i in range(len(values))],
        }
    )


def row(table: pd.DataFrame, version: str) -> pd.Series:
    return table.set_index("model_version").loc[version]


def test_all_fives_against_all_ones_is_better_and_the_reverse_is_worse():
    feedback = pd.concat([ratings(PPO, [5] * 40), ratings(SFT, [1] * 40)])
    table = rating_table(feedback, min_ratings=30)
    ppo = row(table, PPO)
    assert ppo["verdict"] == "better"
    assert ppo["diff_vs_baseline"] == ppo["diff_low"] == ppo["diff_high"] == 4
    assert ppo["baseline_version"] == SFT
    assert row(table, SFT)["verdict"] == "baseline"

    flipped = pd.concat([ratings(PPO, [1] * 40), ratings(SFT, [5] * 40)])
    assert row(rating_table(flipped, min_ratings=30), PPO)["verdict"] == "worse"


def test_fewer_ratings_than_the_minimum_give_no_verdict_however_large_the_gap():
    feedback = pd.concat([ratings(PPO, [5] * 5), ratings(SFT, [1] * 40)])
    assert row(rating_table(feedback, min_ratings=30), PPO)["verdict"] == "not enough data"
    feedback = pd.concat([ratings(PPO, [5] * 40), ratings(SFT, [1] * 5)])
    assert row(rating_table(feedback, min_ratings=30), PPO)["verdict"] == "not enough data"


def test_the_same_rating_distribution_gives_no_clear_difference():
    rng = np.random.default_rng(7)
    same = np.array([3, 4, 5, 2, 4] * 60)
    feedback = pd.concat(
        [ratings(PPO, list(rng.permutation(same))), ratings(SFT, list(rng.permutation(same)))]
    )
    ppo = row(rating_table(feedback), PPO)
    assert ppo["diff_low"] < 0 < ppo["diff_high"]
    assert ppo["diff_high"] - ppo["diff_low"] < 0.5
    assert ppo["verdict"] == "no clear difference"


def test_the_thumbs_up_interval_is_wilson():
    table = rating_table(ratings(PPO, [5] * 8 + [2] * 2))
    ppo = row(table, PPO)
    assert ppo["thumbs_up_rate"] == 0.8
    # Wilson 95% for 8/10 (Agresti & Coull 1998): [0.490, 0.943], inside [0, 1] unlike Wald's.
    assert ppo["thumbs_up_low"] == pytest.approx(0.4902, abs=1e-3)
    assert ppo["thumbs_up_high"] == pytest.approx(0.9433, abs=1e-3)
    none_up = row(rating_table(ratings(PPO, [1, 2, 3])), PPO)
    assert none_up["thumbs_up_low"] == pytest.approx(0, abs=1e-12)
    assert 0 < none_up["thumbs_up_high"] < 1


def test_the_mean_interval_resamples_users_not_single_ratings():
    """One enthusiast's 60 fives and 20 users' single ones: resampling ratings would give a
    narrow interval around 4; resampling users shows how much rests on one person."""
    feedback = ratings(PPO, [5] * 60 + [1] * 20, ["enthusiast"] * 60 + [f"u{i}" for i in range(20)])
    ppo = row(rating_table(feedback), PPO)
    assert ppo["mean_rating"] == 4.0
    assert ppo["n_users"] == 21
    assert ppo["mean_low"] <= 1.5 and ppo["mean_high"] >= 4.5


def test_intervals_are_reproducible_and_unaffected_by_other_versions():
    feedback = pd.concat([ratings(PPO, [5, 4, 2, 3, 5] * 10), ratings(SFT, [3, 2, 4] * 15)])
    first = rating_table(feedback)
    pd.testing.assert_frame_equal(first, rating_table(feedback))
    later = ratings("ppo_model/run-3", [4] * 30, start=START + timedelta(days=1))
    more = rating_table(pd.concat([feedback, later]))
    assert row(more, PPO)[["mean_low", "mean_high"]].tolist() == (
        row(first, PPO)[["mean_low", "mean_high"]].tolist()
    )
    assert more["model_version"].tolist() == [PPO, SFT, "ppo_model/run-3"]


def test_the_baseline_is_the_most_recently_rated_version_of_the_baseline_asset():
    old = ratings("sft_model/old", [2] * 3, start=START)
    new = ratings("sft_model/new", [3] * 3, start=START + timedelta(days=2))
    ppo = ratings(PPO, [4] * 3, start=START + timedelta(days=3))
    assert choose_baseline(pd.concat([new, old, ppo]), "sft_model") == "sft_model/new"
    assert choose_baseline(ppo, "sft_model") is None
    assert row(rating_table(ppo, min_ratings=1), PPO)["verdict"] == "no baseline"


def test_no_ratings_give_an_empty_table_with_every_column():
    table = rating_table(pd.DataFrame(columns=["model_version", "rating", "user_hash"]))
    assert table.empty and list(table.columns) == COLUMNS


def test_the_elasticsearch_template_maps_every_column_in_order():
    template = IndexTemplate.load("rating_table")
    assert template.columns == COLUMNS
    check_columns(COLUMNS, template)


def store_ratings(store, version: str, values: list[int], user_prefix: str) -> None:
    store.upsert(
        Feedback(
            feedback_id=f"{version}-{i}",
            generation_id=f"{version}-g{i}",
            model_version=version,
            prompt="標題：測試\n摘要：\n內文：\n",
            response="回覆",
            rating=value,
            user_id=f"{user_prefix}{i}",
            channel="api",
            created_at=START + timedelta(minutes=i),
        )
        for i, value in enumerate(values)
    )


def test_the_asset_summarises_the_feedback_store_into_the_local_profile_io_manager(tmp_path):
    settings = Settings(data_dir=tmp_path)
    resources = build_resources(settings)
    store = build_stores(settings).feedback  # the file the profile's resource reads
    store_ratings(store, PPO, [5, 4, 5, 4, 5] * 8, "p")
    store_ratings(store, SFT, [2, 3, 1, 2] * 10, "s")
    [asset] = build_rating_assets(settings)

    result = dg.materialize(
        [asset],
        resources={key: resources[key] for key in ("feedback_store", "io_manager")},
        run_config={"ops": {"rating_table": {"config": {"bootstrap_samples": 500}}}},
    )

    assert result.success
    table = result.output_for_node("rating_table")
    assert row(table, PPO)["verdict"] == "better"
    metadata = result.asset_materializations_for_node("rating_table")[0].metadata
    assert metadata["latest_ppo_verdict"].value == "better"
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
    table = rating_table(ratings(PPO, [4, 5, 3]), min_ratings=1)  # no baseline: NaN and None
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
