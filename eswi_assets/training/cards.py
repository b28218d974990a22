"""Model cards (README.md beside the weights) with the sections of the Model Card Toolkit that
the Responsible-AI seed names: model details, intended and out-of-scope uses, training and
evaluation data, quantitative results, ethical considerations, caveats.

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
    out_of_scope: str = "Decisions about people; publishing without human review."
    evaluation_data: list[str] = field(default_factory=list)
    ethical_considerations: list[str] = field(default_factory=lambda: list(ETHICS))
    tags: list[str] = field(default_factory=list)


ETHICS = (
    "Personal data: crawled text is de-identified before training (typed placeholders such as "
    "[NAME_1]); a residue check blocks the corpus when personal data remains, but no detector "
    "is perfect, so generated text may still echo personal details and must be reviewed.",
    "Bias of the sources: the text comes from a few crawled sites, one month of 1998 news and "
    "shopping/book reviews; their topics, regional usage and opinions are over-represented.",
    "Sentiment steering changes tone, not facts: a positive draft of a negative event misleads.",
)


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
            "## Model details",
            f"- Base model: {facts.base_model}",
            f"- Task: {facts.pipeline_tag}; language: Traditional Chinese (zh-Hant)",
            "",
            "## Intended use",
            facts.intended_use,
            "",
            "## Out-of-scope use",
            facts.out_of_scope,
            "",
            "## Training data",
            *(f"- {line}" for line in facts.data),
            "",
            "## Evaluation data",
            *(f"- {line}" for line in facts.evaluation_data or ["see Training data (held out)"]),
            "",
            "## Ethical considerations",
            *(f"- {line}" for line in facts.ethical_considerations),
            "",
            "## Caveats and recommendations",
            *(f"- {line}" for line in facts.limitations),
            "",
            "## Quantitative results",
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
