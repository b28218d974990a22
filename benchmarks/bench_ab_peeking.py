"""How often an A/A test "finds" a difference when `rating_table` is read after every rating.

Both versions are the same (no real difference). Users arrive, each sticks to one side (as the
serving A/B assigns them), has their own rating bias and rates 1-6 answers; after every rating
the verdict is recomputed, and a simulation counts as a false alarm if any look said "better"
or "worse". The old rule (30 ratings per side, then a bootstrap-over-users interval of all
ratings so far must exclude 0) against the fixed-horizon rule of `evaluation.ratings`
(20 users and 50 ratings per side, decided once on the sample at the horizon). A real
difference (+0.5 rating points, users biased with sd 1) is run the same way for the detection rate.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_ab_peeking.py [--simulations 200]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from eswi_assets.evaluation.ratings import (
    CONFIDENCE,
    NOT_ENOUGH,
    difference_interval,
    rating_decision,
)
from eswi_assets_tests.ab_streams import BASELINE, CANDIDATE, rating_stream

A, B = CANDIDATE, BASELINE


def old_rule_says_different(ratings: pd.DataFrame, min_ratings: int, n_boot: int) -> bool:
    counts = ratings["model_version"].eq(A).cumsum(), ratings["model_version"].eq(B).cumsum()
    for n in range(1, len(ratings) + 1):
        if counts[0].iloc[n - 1] >= min_ratings and counts[1].iloc[n - 1] >= min_ratings:
            low, high = difference_interval(ratings.iloc[:n], A, B, n_boot, 0)
            if low > 0 or high < 0:
                return True
    return False


def new_rule_says_different(ratings: pd.DataFrame, n_boot: int) -> bool:
    """Looks until the first verdict: from then on it is frozen (the decision sample is fixed)."""
    for n in range(1, len(ratings) + 1):
        verdict = rating_decision(ratings.iloc[:n], A, B, 20, 50, n_boot, 0).verdict
        if verdict != NOT_ENOUGH:
            return verdict in {"better", "worse"}
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"{args.simulations} simulations x {args.users} users, 1-6 ratings each, verdict after "
        f"every rating, {args.bootstrap} bootstrap resamples, alpha {1 - CONFIDENCE:.2f}"
    )
    for label, shift in (("A/A (no difference)", 0.0), ("A/B (+0.5 points)", 0.5)):
        old = new = 0
        for _ in range(args.simulations):
            ratings = rating_stream(rng, args.users, shift)
            old += old_rule_says_different(ratings, 30, args.bootstrap)
            new += new_rule_says_different(ratings, args.bootstrap)
        print(
            f"{label}: declared a difference in {old / args.simulations:.3f} (old rule: 30 "
            f"ratings, recomputed at every look) vs {new / args.simulations:.3f} (fixed horizon: "
            "20 users and 50 ratings per side, decided once)"
        )


if __name__ == "__main__":
    main()
