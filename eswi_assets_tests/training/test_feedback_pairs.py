"""Users' comparisons and ratings turned into reward-model pairs, on frames in the feedback
store's contract."""

from __future__ import annotations

import pandas as pd

from eswi_assets.training.data import held_out
from eswi_assets.training.feedback_pairs import (
    comparison_pairs,
    feedback_pairs,
    new_usable_units,
    user_rating_pairs,
)
from eswi_assets_tests.feedback_frames import feedback_frame

# Prompts on either side of the reward model's held-out cut.
PROMPTS = [f"標題：第{i}則\n摘要：\n內文：\n" for i in range(40)]
TRAIN = [p for p in PROMPTS if not held_out(p)]
EVAL = [p for p in PROMPTS if held_out(p)]


def compare(prompt: str, first: str, second: str, choice: str, **fields) -> dict:
    return {
        "kind": "comparison",
        "prompt": prompt,
        "response": first,
        "other_response": second,
        "choice": choice,
        **fields,
    }


def rate(prompt: str, response: str, value: int, user: str, **fields) -> dict:
    return {"prompt": prompt, "response": response, "rating": value, "user_hash": user, **fields}


def test_a_clear_pick_in_a_comparison_is_one_pair_for_its_prompt_and_both_bad_is_none():
    feedback = feedback_frame(
        [
            compare(TRAIN[0], "溫暖的回覆", "冷淡的回覆", "first"),
            compare(TRAIN[1], "冷淡的回覆", "溫暖的回覆", "second"),
            compare(TRAIN[2], "很差", "更差", "both_bad"),
            compare(TRAIN[3], "一樣", "一樣", "first"),  # the same text twice teaches nothing
            compare(EVAL[0], "好", "壞", "first"),
        ]
    )
    pairs = comparison_pairs(feedback)
    assert list(zip(pairs["prompt"], pairs["chosen"], pairs["rejected"], strict=True)) == [
        (TRAIN[0], "溫暖的回覆", "冷淡的回覆"),
        (TRAIN[1], "溫暖的回覆", "冷淡的回覆"),
        (EVAL[0], "好", "壞"),
    ]
    assert pairs["split"].tolist() == ["train", "train", "eval"]
    assert (pairs["source"] == "comparison").all()


def test_ratings_pair_within_one_user_across_prompts_never_across_users():
    """A generous user's 4 and a strict user's 2 say more about the users than the answers;
    the same user's 5 and 2 say which answer that user prefers."""
    feedback = feedback_frame(
        [
            rate(TRAIN[0], "甲", 5, "generous"),
            rate(TRAIN[1], "乙", 4, "generous"),
            rate(TRAIN[2], "丙", 2, "generous"),
            rate(TRAIN[3], "丁", 2, "strict"),
            rate(TRAIN[4], "戊", 1, "strict"),
        ]
    )
    pairs = user_rating_pairs(feedback, seed=0)
    assert set(zip(pairs["chosen"], pairs["rejected"], strict=True)) == {
        (TRAIN[0] + "甲", TRAIN[2] + "丙"),
        (TRAIN[1] + "乙", TRAIN[2] + "丙"),
    }
    assert (pairs["prompt"] == "").all() and (pairs["source"] == "user_ratings").all()


def test_a_users_ratings_never_pair_a_held_out_prompt_with_a_training_one():
    feedback = feedback_frame(
        [
            rate(TRAIN[0], "好", 5, "u"),
            rate(EVAL[0], "壞", 1, "u"),
            rate(EVAL[1], "很好", 5, "u"),
        ]
    )
    pairs = user_rating_pairs(feedback, seed=0)
    assert pairs[["chosen", "rejected", "split"]].values.tolist() == [
        [EVAL[1] + "很好", EVAL[0] + "壞", "eval"]
    ]


def test_one_prolific_rater_gives_at_most_the_per_user_cap_reproducibly():
    rows = [rate(TRAIN[i % len(TRAIN)], f"答{i}", 1 + i % 5, "prolific") for i in range(60)]
    rows += [rate(TRAIN[0], "好", 5, "other"), rate(TRAIN[1], "壞", 1, "other")]
    pairs = user_rating_pairs(feedback_frame(rows), seed=3, max_pairs_per_user=20)
    assert len(pairs) == 21
    assert pairs.equals(user_rating_pairs(feedback_frame(rows), seed=3, max_pairs_per_user=20))


def test_feedback_pairs_join_both_kinds_and_no_feedback_gives_none():
    feedback = feedback_frame(
        [
            compare(TRAIN[0], "好", "壞", "second"),
            rate(TRAIN[1], "好", 5, "u"),
            rate(TRAIN[2], "壞", 2, "u"),
        ]
    )
    pairs = feedback_pairs(feedback, seed=0)
    assert pairs["source"].tolist() == ["comparison", "user_ratings"]
    assert pairs.iloc[0][["chosen", "rejected"]].tolist() == ["壞", "好"]
    assert feedback_pairs(feedback_frame([]), seed=0).empty


def test_usable_units_count_each_unit_once_by_its_first_seq_and_skip_both_bad():
    rows = feedback_frame(
        [
            rate(TRAIN[0], "好", 5, "u", seq=11, first_seq=3),  # a re-rating of unit 3
            rate(TRAIN[1], "壞", 2, "u", seq=12, first_seq=12),
            compare(TRAIN[2], "好", "壞", "first", seq=13, first_seq=13),
            compare(TRAIN[3], "好", "壞", "both_bad", seq=14, first_seq=14),
            compare(TRAIN[4], "好", "壞", "second", seq=15, first_seq=9),  # a changed pick
        ]
    )
    assert new_usable_units(rows, after_seq=10) == {"comparison": 1, "rating": 1}
    assert new_usable_units(rows, after_seq=0) == {"comparison": 2, "rating": 2}
    assert new_usable_units(rows.iloc[:0], after_seq=0) == {"comparison": 0, "rating": 0}


def test_an_answer_the_user_rated_twice_counts_once_with_its_mean():
    feedback = feedback_frame(
        [
            rate(TRAIN[0], "好", 5, "u"),
            rate(TRAIN[0], "好", 1, "u"),  # the same answer again: mean 3
            rate(TRAIN[1], "壞", 2, "u"),
        ]
    )
    assert user_rating_pairs(feedback, seed=0).empty
    pd.testing.assert_frame_equal(
        user_rating_pairs(feedback.iloc[[0, 2]], seed=0),
        user_rating_pairs(feedback.iloc[[0, 2]], seed=1),
    )
