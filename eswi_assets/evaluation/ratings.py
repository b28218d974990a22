"""How users rate each model version, and whether a version beats the baseline it was A/B
tested against.

Ratings of one user are correlated (a generous user rates everything high), so intervals come
from a bootstrap that resamples users, not single ratings: each resample draws users with
replacement and keeps all their ratings. The thumbs-up rate (rating >= 4) gets a Wilson
interval, which stays inside [0, 1] and is honest at small n. A verdict needs at least
`min_ratings` ratings on both sides and an interval for the difference that excludes zero.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

THUMBS_UP = 4
CONFIDENCE = 0.95
NOT_ENOUGH = "not enough data"
NO_BASELINE = "no baseline"
BASELINE = "baseline"

COLUMNS = [
    "model_version",
    "model_asset",
    "n_ratings",
    "n_users",
    "mean_rating",
    "mean_low",
    "mean_high",
    "thumbs_up_rate",
    "thumbs_up_low",
    "thumbs_up_high",
    "baseline_version",
    "diff_vs_baseline",
    "diff_low",
    "diff_high",
    "verdict",
    "first_rated_at",
    "last_rated_at",
]


def asset_of(model_version: str) -> str:
    """`ppo_model/<run id>` -> `ppo_model` (the serving app writes versions this way)."""
    return model_version.split("/", 1)[0]


def choose_baseline(feedback: pd.DataFrame, baseline_asset: str) -> str | None:
    """The version of `baseline_asset` rated most recently: the one being served now."""
    rated = feedback[feedback["model_version"].map(asset_of) == baseline_asset]
    if rated.empty:
        return None
    return str(rated.sort_values("created_at")["model_version"].iloc[-1])


def _rng(seed: int, version: str) -> np.random.Generator:
    """A stream per version, so adding a version never changes another version's interval."""
    return np.random.default_rng([seed, int(hashlib.sha256(version.encode()).hexdigest()[:8], 16)])


def _per_user(feedback: pd.DataFrame, versions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rating sums and counts, users x versions, over users who rated any of `versions`."""
    rows = feedback[feedback["model_version"].isin(versions)]
    grouped = rows.groupby(["user_hash", "model_version"])["rating"].agg(["sum", "count"])
    wide = grouped.unstack("model_version", fill_value=0)
    sums = wide["sum"].reindex(columns=versions, fill_value=0).to_numpy(float)
    counts = wide["count"].reindex(columns=versions, fill_value=0).to_numpy(float)
    return sums, counts


def bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Mean rating per column in each of `n_boot` user resamples (NaN: no rater drawn)."""
    n_users = len(sums)
    means = np.empty((n_boot, sums.shape[1]))
    chunk = max(1, 2_000_000 // n_users)  # bounds the weight matrix for large user counts
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        weights = rng.multinomial(n_users, np.full(n_users, 1 / n_users), size=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start : start + size] = (weights @ sums) / (weights @ counts)
    return means


def _interval(draws: np.ndarray) -> tuple[float, float]:
    draws = draws[~np.isnan(draws)]
    if len(draws) == 0:
        return float("nan"), float("nan")
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def mean_interval(
    feedback: pd.DataFrame, version: str, n_boot: int, seed: int
) -> tuple[float, float]:
    sums, counts = _per_user(feedback, [version])
    return _interval(bootstrap_means(sums, counts, n_boot, _rng(seed, version))[:, 0])


def difference_interval(
    feedback: pd.DataFrame, version: str, baseline: str, n_boot: int, seed: int
) -> tuple[float, float]:
    """Interval of mean(version) - mean(baseline); users who rated both count on both sides."""
    sums, counts = _per_user(feedback, [version, baseline])
    means = bootstrap_means(sums, counts, n_boot, _rng(seed, f"{version}-{baseline}"))
    return _interval(means[:, 0] - means[:, 1])


def verdict(n: int, n_baseline: int, low: float, high: float, min_ratings: int) -> str:
    if n < min_ratings or n_baseline < min_ratings:
        return NOT_ENOUGH
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no clear difference"


def rating_table(
    feedback: pd.DataFrame,
    baseline_asset: str = "sft_model",
    baseline_version: str | None = None,
    min_ratings: int = 30,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per rated model version (columns: COLUMNS), in order of first rating.

    `feedback` has the feedback store's columns; the baseline is `baseline_version`, or else
    the most recently rated version of `baseline_asset`.
    """
    if feedback.empty:
        return pd.DataFrame(columns=COLUMNS)
    baseline = baseline_version or choose_baseline(feedback, baseline_asset)
    n_baseline = int((feedback["model_version"] == baseline).sum()) if baseline else 0
    rows = []
    for version, group in feedback.groupby("model_version", sort=False):
        n = len(group)
        ups = int((group["rating"] >= THUMBS_UP).sum())
        up_low, up_high = proportion_confint(ups, n, alpha=1 - CONFIDENCE, method="wilson")
        mean_low, mean_high = mean_interval(feedback, version, n_boot, seed)
        diff = diff_low = diff_high = float("nan")
        if baseline is None:
            outcome = NO_BASELINE if n >= min_ratings else NOT_ENOUGH
        elif version == baseline:
            outcome = BASELINE
        else:
            base_mean = feedback.loc[feedback["model_version"] == baseline, "rating"].mean()
            diff = float(group["rating"].mean() - base_mean) if n_baseline else float("nan")
            if n_baseline:
                diff_low, diff_high = difference_interval(feedback, version, baseline, n_boot, seed)
            outcome = verdict(n, n_baseline, diff_low, diff_high, min_ratings)
        rows.append(
            {
                "model_version": version,
                "model_asset": asset_of(version),
                "n_ratings": n,
                "n_users": group["user_hash"].nunique(),
                "mean_rating": float(group["rating"].mean()),
                "mean_low": mean_low,
                "mean_high": mean_high,
                "thumbs_up_rate": ups / n,
                "thumbs_up_low": float(up_low),
                "thumbs_up_high": float(up_high),
                "baseline_version": baseline,
                "diff_vs_baseline": diff,
                "diff_low": diff_low,
                "diff_high": diff_high,
                "verdict": outcome,
                "first_rated_at": group["created_at"].min(),
                "last_rated_at": group["created_at"].max(),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["first_rated_at", "model_version"], ignore_index=True)
