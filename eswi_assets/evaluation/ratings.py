"""How users rate each model version, and whether a version beats the baseline it was A/B
tested against.

Ratings of one user are correlated (a generous user rates everything high), so every interval
comes from a bootstrap that resamples users, not single ratings: each resample draws users with
replacement and keeps all their ratings. That holds for the mean, the thumbs-up rate (rating
>= 4) and the win rate of comparisons alike.

The verdict is read after every new rating (the feedback sensor refreshes the table), and an
interval recomputed at every look would exclude zero by chance far more often than 5% of the
time. So the verdict follows a fixed-horizon rule (`VERDICT_RULE`): nothing is said until both
sides have `min_users` users and `min_ratings` ratings; the units stored up to that moment (by
`first_seq`, the order units arrived) are the decision sample, and the verdict is computed on
that sample alone, so later looks see the same verdict. When the horizon is reached depends only
on how many users and ratings arrived, never on their values, so the one test it makes keeps
its level however often the table is read. (Confidence sequences would allow stopping earlier,
but the libraries on PyPI assume independent observations, which one user's ratings are not.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

THUMBS_UP = 4
CONFIDENCE = 0.95
NOT_ENOUGH = "not enough data"
NO_BASELINE = "no baseline"
BASELINE = "baseline"
RATING, COMPARISON = "rating", "comparison"
CLEAR_CHOICES = ("first", "second")
MIN_USERS, MIN_RATINGS = 20, 50


def verdict_rule(min_users: int, min_ratings: int) -> str:
    """The rule, in words, for the table's metadata."""
    return (
        f"fixed horizon: no verdict until both sides have {min_users} users and {min_ratings} "
        "ratings (comparisons: users and clear picks); the verdict is then computed once, on "
        f"the units stored up to that point, with a {CONFIDENCE:.0%} interval that resamples "
        "users, and later ratings do not change it"
    )


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
    "decided_at",
    "n_comparisons",
    "comparison_users",
    "win_rate",
    "win_low",
    "win_high",
    "comparison_verdict",
    "first_rated_at",
    "last_rated_at",
]


@dataclass(frozen=True)
class Decision:
    """A verdict with the estimate and interval it rests on and when the horizon was reached.
    Before the horizon there is a point estimate on everything so far but no interval, so
    nobody reads a verdict into an interval the rule has not yet licensed."""

    verdict: str
    estimate: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    decided_at: pd.Timestamp | None = None


def asset_of(model_version: str) -> str:
    """`ppo_model/<run id>` -> `ppo_model` (the serving app writes versions this way)."""
    return model_version.split("/", 1)[0]


def ratings_of(feedback: pd.DataFrame) -> pd.DataFrame:
    """Rating rows, in arrival order, with a float `rating`."""
    rows = feedback[(feedback["kind"] == RATING) & feedback["rating"].notna()]
    return rows.assign(rating=rows["rating"].astype(float)).sort_values("first_seq", kind="stable")


def comparisons_of(feedback: pd.DataFrame) -> pd.DataFrame:
    return feedback[feedback["kind"] == COMPARISON].sort_values("first_seq", kind="stable")


def _appearances(feedback: pd.DataFrame) -> pd.DataFrame:
    """(model_version, created_at) of every answer shown, both sides of comparisons included."""
    others = comparisons_of(feedback)[["other_model_version", "created_at"]]
    return pd.concat(
        [
            feedback[["model_version", "created_at"]],
            others.rename(columns={"other_model_version": "model_version"}),
        ],
        ignore_index=True,
    ).dropna(subset=["model_version"])


def choose_baseline(feedback: pd.DataFrame, baseline_asset: str) -> str | None:
    """The version of `baseline_asset` rated most recently: the one being served now."""
    shown = _appearances(feedback)
    shown = shown[shown["model_version"].map(asset_of) == baseline_asset]
    if shown.empty:
        return None
    return str(shown.sort_values("created_at", kind="stable")["model_version"].iloc[-1])


def _rng(seed: int, version: str) -> np.random.Generator:
    """A stream per version, so adding a version never changes another version's interval."""
    return np.random.default_rng([seed, int(hashlib.sha256(version.encode()).hexdigest()[:8], 16)])


def _per_user(
    users: pd.Series, values: np.ndarray, columns: np.ndarray, n_columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of `values` and counts, users x columns (`columns`: each row's column number)."""
    codes, uniques = pd.factorize(users)
    cells = codes * n_columns + columns
    size = len(uniques) * n_columns
    sums = np.bincount(cells, weights=values, minlength=size).reshape(-1, n_columns)
    counts = np.bincount(cells, minlength=size).astype(float).reshape(-1, n_columns)
    return sums, counts


def bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Mean per column in each of `n_boot` user resamples (NaN: no rater drawn)."""
    n_users = len(sums)
    means = np.empty((n_boot, sums.shape[1]))
    if n_users == 0:
        return np.full((n_boot, sums.shape[1]), np.nan)
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


def user_interval(
    rows: pd.DataFrame, values: pd.Series, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Interval of the mean of `values` over `rows`, resampling users."""
    columns = np.zeros(len(rows), dtype=int)
    sums, counts = _per_user(rows["user_hash"], values.to_numpy(float), columns, 1)
    return _interval(bootstrap_means(sums, counts, n_boot, rng)[:, 0])


def difference_interval(
    ratings: pd.DataFrame, version: str, baseline: str, n_boot: int, seed: int
) -> tuple[float, float]:
    """Interval of mean(version) - mean(baseline); users who rated both count on both sides."""
    rows = ratings[ratings["model_version"].isin([version, baseline])]
    columns = (rows["model_version"] == baseline).to_numpy(int)
    sums, counts = _per_user(rows["user_hash"], rows["rating"].to_numpy(float), columns, 2)
    means = bootstrap_means(sums, counts, n_boot, _rng(seed, f"{version}-{baseline}"))
    return _interval(means[:, 0] - means[:, 1])


def horizon_index(
    sides: list[np.ndarray], users: pd.Series, min_users: int, min_count: int
) -> int | None:
    """Position of the first row at which every side (a boolean mask over the same rows, in
    arrival order) has `min_users` distinct users and `min_count` rows; None before."""
    codes, _ = pd.factorize(users)
    reached = np.ones(len(codes), dtype=bool)
    for side in sides:
        positions = np.flatnonzero(side)
        first_of_user = np.zeros(len(codes), dtype=bool)
        first_of_user[positions[np.unique(codes[positions], return_index=True)[1]]] = True
        reached &= (np.cumsum(first_of_user) >= min_users) & (np.cumsum(side) >= min_count)
    return int(np.argmax(reached)) if reached.any() else None


def _outcome(low: float, high: float, null: float = 0.0) -> str:
    if low > null:
        return "better"
    if high < null:
        return "worse"
    return "no clear difference"


def rating_decision(
    ratings: pd.DataFrame,
    version: str,
    baseline: str,
    min_users: int,
    min_ratings: int,
    n_boot: int,
    seed: int,
) -> Decision:
    """The fixed-horizon verdict of `version` against `baseline` on mean rating."""
    rows = ratings[ratings["model_version"].isin([version, baseline])]
    is_version = (rows["model_version"] == version).to_numpy()
    at = horizon_index([is_version, ~is_version], rows["user_hash"], min_users, min_ratings)
    end = len(rows) if at is None else at + 1
    sample, in_version = rows.iloc[:end], is_version[:end]
    if in_version.all() or not in_version.any():
        return Decision(NOT_ENOUGH)
    values = sample["rating"].to_numpy(float)
    estimate = float(values[in_version].mean() - values[~in_version].mean())
    if at is None:
        return Decision(NOT_ENOUGH, estimate)
    low, high = difference_interval(sample, version, baseline, n_boot, seed)
    return Decision(_outcome(low, high), estimate, low, high, sample["created_at"].iloc[-1])


def comparison_decision(
    comparisons: pd.DataFrame,
    version: str,
    baseline: str,
    min_users: int,
    min_picks: int,
    n_boot: int,
    seed: int,
) -> tuple[int, int, Decision]:
    """Comparisons of `version` against `baseline` (either order): their count, the users who
    made them, and the fixed-horizon verdict on the candidate's win rate among clear picks
    (`both_bad` counts as no pick), which must exclude 0.5 to say better or worse."""
    pair = {version, baseline}
    between = comparisons[
        (comparisons["model_version"] != comparisons["other_model_version"])
        & comparisons["model_version"].isin(pair)
        & comparisons["other_model_version"].isin(pair)
    ]
    clear = between[between["choice"].isin(CLEAR_CHOICES)]
    won = (clear["choice"] == "first") == (clear["model_version"] == version)
    n, users = len(between), int(between["user_hash"].nunique())
    if clear.empty:
        return n, users, Decision(NOT_ENOUGH)
    at = horizon_index(
        [pd.Series(True, index=clear.index)], clear["user_hash"], min_users, min_picks
    )
    end = len(clear) if at is None else at + 1
    sample, wins = clear.iloc[:end], won.iloc[:end].astype(float)
    if at is None:
        return n, users, Decision(NOT_ENOUGH, float(wins.mean()))
    low, high = user_interval(sample, wins, n_boot, _rng(seed, f"{version}-{baseline}-wins"))
    decided = sample["created_at"].iloc[-1]
    return n, users, Decision(_outcome(low, high, 0.5), float(wins.mean()), low, high, decided)


def version_order(feedback: pd.DataFrame) -> list[str]:
    """Every version shown, in order of its first appearance."""
    shown = _appearances(feedback).sort_values("created_at", kind="stable")
    return list(dict.fromkeys(shown["model_version"]))


def rating_table(
    feedback: pd.DataFrame,
    baseline_asset: str = "sft_model",
    baseline_version: str | None = None,
    min_users: int = MIN_USERS,
    min_ratings: int = MIN_RATINGS,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per model version shown to users (columns: COLUMNS), in order of first rating.

    `feedback` has the feedback store's columns; the baseline is `baseline_version`, or else
    the most recently rated version of `baseline_asset`.
    """
    if feedback.empty:
        return pd.DataFrame(columns=COLUMNS)
    ratings, comparisons = ratings_of(feedback), comparisons_of(feedback)
    baseline = baseline_version or choose_baseline(feedback, baseline_asset)
    shown = _appearances(feedback)
    rows = []
    for version in version_order(feedback):
        group = ratings[ratings["model_version"] == version]
        rng = _rng(seed, version)
        mean_low, mean_high = user_interval(group, group["rating"], n_boot, rng)
        ups = (group["rating"] >= THUMBS_UP).astype(float)
        up_low, up_high = user_interval(group, ups, n_boot, rng)
        n_compared, compared_users, compared = 0, 0, Decision(NOT_ENOUGH)
        if baseline is None:
            users = group["user_hash"].nunique()
            enough = users >= min_users and len(group) >= min_ratings
            decision = Decision(NO_BASELINE if enough else NOT_ENOUGH)
        elif version == baseline:
            decision = compared = Decision(BASELINE)
        else:
            decision = rating_decision(
                ratings, version, baseline, min_users, min_ratings, n_boot, seed
            )
            n_compared, compared_users, compared = comparison_decision(
                comparisons, version, baseline, min_users, min_ratings, n_boot, seed
            )
        times = shown.loc[shown["model_version"] == version, "created_at"]
        rows.append(
            {
                "model_version": version,
                "model_asset": asset_of(version),
                "n_ratings": len(group),
                "n_users": group["user_hash"].nunique(),
                "mean_rating": float(group["rating"].mean()) if len(group) else float("nan"),
                "mean_low": mean_low,
                "mean_high": mean_high,
                "thumbs_up_rate": float(ups.mean()) if len(group) else float("nan"),
                "thumbs_up_low": up_low,
                "thumbs_up_high": up_high,
                "baseline_version": baseline,
                "diff_vs_baseline": decision.estimate,
                "diff_low": decision.low,
                "diff_high": decision.high,
                "verdict": decision.verdict,
                "decided_at": decision.decided_at,
                "n_comparisons": n_compared,
                "comparison_users": compared_users,
                "win_rate": compared.estimate,
                "win_low": compared.low,
                "win_high": compared.high,
                "comparison_verdict": compared.verdict,
                "first_rated_at": times.min(),
                "last_rated_at": times.max(),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["decided_at"] = pd.to_datetime(table["decided_at"])
    return table.sort_values(["first_rated_at", "model_version"], ignore_index=True)
