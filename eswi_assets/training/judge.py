"""An independent sentiment judge that PPO never sees: snownlp's own classifier.

PPO can learn to please its reward model without writing more positive text (reward hacking);
a second opinion from a different model family catches that. snownlp was trained on Simplified
Chinese, so texts are converted back with OpenCC `t2s` before scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import opencc
from snownlp import SnowNLP


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def positivity(text: str) -> float:
    """Probability in [0, 1] that `text` is positive; 0.5 for text with no characters."""
    simplified = _to_simplified().convert(text).strip()
    return float(SnowNLP(simplified).sentiments) if simplified else 0.5


def judge(texts: Sequence[str], target: str) -> np.ndarray:
    """Per text, how much it has the target sentiment (positivity, or 1 - positivity)."""
    scores = np.array([positivity(t) for t in texts], dtype=float)
    return scores if target == "positive" else 1.0 - scores
