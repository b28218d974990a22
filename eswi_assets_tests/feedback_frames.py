"""Frames in the feedback store's contract (one row per rated unit, `stores.feedback.COLUMNS`),
built by hand, and a `FeedbackStore` that serves one: the training and evaluation side is tested
against the contract itself, whatever backend writes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from eswi_assets.stores.feedback import COLUMNS, FeedbackBatch, FeedbackStats

START = datetime(2026, 11, 20)


def feedback_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as dicts with any subset of the columns; `seq`, `first_seq`, ids and times are
    filled in arrival order where missing."""
    filled = []
    for i, row in enumerate(rows):
        kind = row.get("kind", "rating")
        filled.append(
            {
                "seq": i + 1,
                "first_seq": i + 1,
                "feedback_id": f"f{i}",
                "kind": kind,
                "generation_id": f"g{i}",
                "model_version": "ppo_model/r1",
                "prompt": "",
                "response": "",
                "rating": None,
                "other_generation_id": f"h{i}" if kind == "comparison" else None,
                "other_model_version": None,
                "other_response": None,
                "choice": None,
                "user_hash": f"user-{i}",
                "channel": "api",
                "created_at": START + timedelta(minutes=i),
                **row,
            }
        )
    df = pd.DataFrame(filled, columns=COLUMNS)
    df[["seq", "first_seq"]] = df[["seq", "first_seq"]].astype("int64")
    df["rating"] = df["rating"].astype("Int64")
    return df


def rating_rows(
    version: str, values: list[int], users: list[str] | None = None, **fields
) -> list[dict]:
    users = users or [f"{version}-user-{i}" for i in range(len(values))]
    return [
        {"model_version": version, "rating": value, "user_hash": user, **fields}
        for value, user in zip(values, users, strict=True)
    ]


class FrameFeedbackStore:
    """The read side of a feedback store (what sensors, rating_table and reward_model call),
    in memory, keeping the contract: a new unit gets the next `seq` as its `first_seq`; a unit
    stored again under its `feedback_id` (a re-rating) gets a new `seq` and keeps its
    `first_seq`. The serving side is the real stores' (test_feedback_store_contract.py)."""

    def __init__(self, frame: pd.DataFrame | None = None) -> None:
        self.frame = feedback_frame([]) if frame is None else frame.sort_values("seq")

    def add(self, rows: list[dict]) -> None:
        """Store `rows` (dicts as `feedback_frame` takes them, each with a `feedback_id`)."""
        for row in rows:
            seq = int(self.frame["seq"].max()) + 1 if len(self.frame) else 1
            earlier = self.frame[self.frame["feedback_id"] == row["feedback_id"]]
            first_seq = int(earlier["first_seq"].iloc[0]) if len(earlier) else seq
            new = feedback_frame([{**row, "seq": seq, "first_seq": first_seq}])
            kept = self.frame[self.frame["feedback_id"] != row["feedback_id"]]
            self.frame = pd.concat([kept, new], ignore_index=True) if len(kept) else new

    def read_after(self, cursor: int = 0, limit: int = 1000) -> FeedbackBatch:
        rows = self.frame[self.frame["seq"] > cursor].head(limit).reset_index(drop=True)
        return FeedbackBatch(rows, int(rows["seq"].max()) if len(rows) else cursor)

    def read_all(self) -> pd.DataFrame:
        return self.frame.reset_index(drop=True)

    def stats(self) -> FeedbackStats:
        newest = self.frame["created_at"].max() if len(self.frame) else None
        max_seq = int(self.frame["seq"].max()) if len(self.frame) else 0
        return FeedbackStats(len(self.frame), newest, max_seq)
