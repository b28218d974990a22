"""`rating_table`: per model version, how users rated it and whether it beats the baseline.

Reads every rating from the feedback store (the `user_feedback` source asset observes the same
store) and calls `eswi_assets.evaluation.ratings.rating_table`; the frame goes to the default
IO manager (DuckDB locally, Elasticsearch in production, with the explicit mapping of
`deploy/elasticsearch/templates/rating_table.json`).

No `from __future__ import annotations` here: Dagster reads the run-config class from the real
annotation of the asset's `config` parameter.
"""

import dagster as dg
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from eswi_assets.assets.feedback import USER_FEEDBACK
from eswi_assets.assets.metadata import figure
from eswi_assets.checks.model_checks import PPO_MODEL
from eswi_assets.evaluation.ratings import MIN_RATINGS, MIN_USERS, verdict_rule
from eswi_assets.evaluation.ratings import rating_table as summarize_ratings
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore

RATING_TABLE = "rating_table"


class RatingTableParams(dg.Config):
    """How versions are compared; the defaults match the serving app's default A/B test."""

    baseline_asset: str = Field(
        default="sft_model", description="Its most recently rated version is the baseline."
    )
    baseline_version: str | None = Field(
        default=None, description="A fixed baseline, as <asset>/<run id>, instead."
    )
    min_users: int = Field(
        default=MIN_USERS,
        ge=1,
        description="Users per side before a verdict (the fixed horizon); fewer: 'not enough "
        "data'. Comparisons need this many users too.",
    )
    min_ratings: int = Field(
        default=MIN_RATINGS,
        ge=1,
        description="Ratings per side before a verdict, as well as min_users (comparisons: "
        "clear picks).",
    )
    bootstrap_samples: int = Field(default=2000, ge=100)
    seed: int = 0


def interval_plot(table: pd.DataFrame) -> dg.MetadataValue:
    """Mean rating per version with its 95% interval, the baseline's mean as a dashed line."""
    fig = Figure(figsize=(6, 0.5 + 0.45 * max(len(table), 1)), dpi=100)
    ax = fig.subplots()
    y = np.arange(len(table))
    errors = [
        (table["mean_rating"] - table["mean_low"]).clip(lower=0).fillna(0),
        (table["mean_high"] - table["mean_rating"]).clip(lower=0).fillna(0),
    ]
    ax.errorbar(table["mean_rating"], y, xerr=errors, fmt="o", capsize=3)
    baseline = table[table["verdict"] == "baseline"]
    if not baseline.empty:
        ax.axvline(baseline["mean_rating"].iloc[0], linestyle="--", color="grey", label="baseline")
        ax.legend(loc="lower right")
    labels = table["model_version"] + " (" + table["n_ratings"].astype(str) + ")"
    ax.set_yticks(y, labels.tolist())
    ax.set_xlim(1, 5)
    ax.set_xlabel("mean rating, 95% interval (bootstrap over users)")
    return figure(fig, "mean rating per model version")


def rating_metadata(table: pd.DataFrame, rule: str) -> dict[str, dg.MetadataValue]:
    shown = table.drop(columns=["first_rated_at", "baseline_version", "model_asset"])
    metadata = {
        "ratings": dg.MetadataValue.int(int(table["n_ratings"].sum())),
        "comparisons_vs_baseline": dg.MetadataValue.int(int(table["n_comparisons"].sum())),
        "model_versions": dg.MetadataValue.int(len(table)),
        "verdict_rule": dg.MetadataValue.text(rule),
        "table": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".3f")),
    }
    if not table.empty:
        metadata["plot"] = interval_plot(table)
        metadata["baseline_version"] = dg.MetadataValue.text(str(table["baseline_version"].iloc[0]))
        ppo = table[table["model_asset"] == PPO_MODEL]
        if not ppo.empty:
            latest = ppo.sort_values("last_rated_at").iloc[-1]
            metadata["latest_ppo_version"] = dg.MetadataValue.text(latest["model_version"])
            metadata["latest_ppo_verdict"] = dg.MetadataValue.text(latest["verdict"])
            metadata["latest_ppo_comparison_verdict"] = dg.MetadataValue.text(
                latest["comparison_verdict"]
            )
    return metadata


def build_rating_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    store_kind = "elasticsearch" if settings.is_production else "duckdb"

    @dg.asset(
        name=RATING_TABLE,
        group_name="models",
        owners=["team:ml-engineering"],
        kinds={"pandas", store_kind},
        deps=[PPO_MODEL, USER_FEEDBACK],
    )
    def rating_table(
        config: RatingTableParams, feedback_store: dg.ResourceParam[FeedbackStore]
    ) -> dg.Output[pd.DataFrame]:
        """Per model version: ratings, mean and thumbs-up rate (rating >= 4) with 95% intervals
        that resample users, the difference from the baseline version, the win rate in
        comparisons against it, and verdicts (better, worse, no clear difference, not enough
        data) by a fixed-horizon rule that stays valid however often the table is read."""
        table = summarize_ratings(
            feedback_store.read_all(),
            baseline_asset=config.baseline_asset,
            baseline_version=config.baseline_version,
            min_users=config.min_users,
            min_ratings=config.min_ratings,
            n_boot=config.bootstrap_samples,
            seed=config.seed,
        )
        rule = verdict_rule(config.min_users, config.min_ratings)
        return dg.Output(table, metadata=rating_metadata(table, rule))

    return [rating_table]
