"""What every training step hands back, so the assets, tests and benchmarks read one shape."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class TrainingResult:
    """The trained model and its tokenizer, with what to report about them.

    `examples` holds the rows a reviewer reads: generated samples (SFT, PPO) or probe scores
    (reward). `stop_reason` says why training ended when that can be early (PPO's budget);
    `data_version` names the data a reusable model was trained from (base_model).
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    metrics: dict[str, float]
    history: list[dict] = field(default_factory=list)
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)
    stop_reason: str = "all steps run"
    data_version: str | None = None
