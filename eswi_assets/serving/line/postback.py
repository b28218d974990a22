"""What a button's postback data says: the `action` field picks the parser (`rate` for a 1-5
score of one text, `choose` for the better of two texts of a comparison).

The data comes back from LINE as we sent it, but anyone can craft a postback in their own chat,
so every field is checked strictly: a score is exactly one ASCII digit 1-5 ("05", a fullwidth
"４" or " 3" are refused, though `int()` would take them).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

SCORES = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Rate:
    """A rating button: `score` for the generation `generation_id`."""

    generation_id: str
    score: int


@dataclass(frozen=True)
class Choose:
    """A comparison button: the better text of `comparison_id` ("first", "second") or
    "both_bad"."""

    comparison_id: str
    choice: str


Postback = Rate | Choose
CHOICES = ("first", "second", "both_bad")


def rating_data(generation_id: str, score: int) -> str:
    return urlencode({"action": "rate", "generation_id": generation_id, "score": score})


def choice_data(comparison_id: str, choice: str) -> str:
    return urlencode({"action": "choose", "comparison_id": comparison_id, "choice": choice})


def parse_score(text: str) -> int | None:
    """1-5 from exactly "1".."5"; None for anything else."""
    return int(text) if text in SCORES else None


def parse_postback(data: str) -> Postback | None:
    """The action a postback's data asks for; None for data we never sent."""
    try:
        pairs = parse_qsl(data, strict_parsing=True, max_num_fields=8)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a repeated field: not ours
        return None
    if fields.get("action") == "rate" and fields.keys() == {"action", "generation_id", "score"}:
        score = parse_score(fields["score"])
        if fields["generation_id"] and score is not None:
            return Rate(fields["generation_id"], score)
    choose = fields.get("action") == "choose" and fields.keys() == {
        "action",
        "comparison_id",
        "choice",
    }
    if choose and fields["comparison_id"] and fields["choice"] in CHOICES:
        return Choose(fields["comparison_id"], fields["choice"])
    return None
