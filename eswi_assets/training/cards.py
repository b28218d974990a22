"""Model cards (README.md beside the weights): data used, intended use, limits, evaluation.

The Hugging Face card format (YAML header + Markdown), so the card renders on the Hub and in any
viewer, and someone who never saw this project knows what the model is for and what it is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml


@dataclass(frozen=True)
class CardFacts:
    name: str
    summary: str
    pipeline_tag: str
    base_model: str
    data: list[str]
    intended_use: str
    limitations: list[str]
    metrics: Mapping[str, float]
    how_to_load: str
    tags: list[str] = field(default_factory=list)


def model_card(facts: CardFacts) -> str:
    header = yaml.safe_dump(
        {
            "language": ["zh"],
            "library_name": "transformers",
            "pipeline_tag": facts.pipeline_tag,
            "tags": ["eswi", "traditional-chinese", *facts.tags],
        },
        allow_unicode=True,
        sort_keys=False,
    )
    metrics = "\n".join(f"| {k} | {v:.4g} |" for k, v in sorted(facts.metrics.items()))
    return "\n".join(
        [
            f"---\n{header}---",
            f"# {facts.name}",
            "",
            facts.summary,
            "",
            f"Base model: {facts.base_model}",
            "",
            "## Training data",
            *(f"- {line}" for line in facts.data),
            "",
            "## Intended use",
            facts.intended_use,
            "",
            "## Limitations",
            *(f"- {line}" for line in facts.limitations),
            "",
            "## Evaluation",
            "| metric | value |",
            "|---|---|",
            metrics,
            "",
            "## How to load",
            "```python",
            facts.how_to_load,
            "```",
            "",
        ]
    )
