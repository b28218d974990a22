"""`reward_model`: a scalar scorer of the target sentiment on the SFT backbone, trained on
pairs from labels, users' comparisons and ratings, and repetition probes.

No `from __future__ import annotations` here: Dagster reads the run-config class from the real
annotation of the asset's `config` parameter.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from eswi_assets.assets.feedback import USER_FEEDBACK
from eswi_assets.assets.metadata import floats, history_series, line_plot, table
from eswi_assets.assets.models.common import (
    artifact,
    checkpointing,
    load_snippet,
    training_kwargs,
)
from eswi_assets.assets.models.params import RewardParams
from eswi_assets.checks.model_checks import (
    model_check,
    reward_guard,
)
from eswi_assets.checks.registry import check_specs
from eswi_assets.keys import REWARD_MODEL
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelStore,
    StoredModel,
)
from eswi_assets.training.cards import CardFacts
from eswi_assets.training.data import (
    label_pairs,
    repetition_pairs,
)
from eswi_assets.training.feedback_pairs import FEEDBACK_SOURCES, MIN_GAP, feedback_pairs
from eswi_assets.training.result import TrainingResult
from eswi_assets.training.reward import train_reward


def pair_counts(pairs: pd.DataFrame) -> dict[str, int]:
    """Pairs per source (labels, repetition, comparison, user_ratings), both splits together,
    every feedback source named even when it gave none."""
    named = dict.fromkeys(("labels", "repetition", *FEEDBACK_SOURCES), 0)
    counts = named | pairs["source"].value_counts().to_dict()
    return {f"{source}_pairs": int(n) for source, n in sorted(counts.items())}


def reward_metadata(result: TrainingResult, counts: dict[str, int]) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **floats(m, [k for k in m if k.endswith(("accuracy", "margin")) or k == "probe_gap"]),
        **{k: dg.MetadataValue.int(int(m[k])) for k in m if k.endswith("pairs")},
        **{k: dg.MetadataValue.int(n) for k, n in counts.items()},
        "probes": table(result.examples),
        "loss_plot": line_plot(
            {
                "loss": history_series(result.history, "loss"),
                "accuracy": history_series(result.history, "accuracy"),
            },
            "Reward model training",
            "pairwise loss / accuracy",
        ),
    }


def build_reward_model(settings: Settings) -> dg.AssetsDefinition:
    target = settings.target_sentiment

    @dg.asset(
        ins={"labeled_sentiment": dg.AssetIn(), "sft_model": dg.AssetIn()},
        deps=[USER_FEEDBACK],
        check_specs=check_specs(REWARD_MODEL),
        **training_kwargs(settings),
    )
    def reward_model(
        context: dg.AssetExecutionContext,
        config: RewardParams,
        model_store: dg.ResourceParam[ModelStore],
        feedback_store: dg.ResourceParam[FeedbackStore],
        labeled_sentiment: pd.DataFrame,
        sft_model: StoredModel,
    ) -> Iterator[dg.Output[ModelArtifact] | dg.AssetCheckResult]:
        """Scalar sentiment scorer on the SFT backbone and tokenizer, trained on preference
        pairs: labeled sentences of the target sentiment over the others, the answer a user
        picked in a comparison over the other, and an answer a user rated 2+ points above
        another answer of theirs (`training.feedback_pairs`)."""
        pairs = label_pairs(labeled_sentiment, target, config.max_label_pairs, config.seed)
        from_feedback = feedback_pairs(feedback_store.read_all(), config.seed)
        degenerate = repetition_pairs(pairs, config.seed)
        every_pair = pd.concat([pairs, from_feedback, degenerate], ignore_index=True)
        counts = pair_counts(every_pair)
        context.log.info(
            "pairs (train + held out): " + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
        policy, tokenizer = sft_model.load()
        output_dir, callbacks = checkpointing(model_store, REWARD_MODEL, context)
        args = config.trl_config(output_dir)
        result = train_reward(every_pair, policy, tokenizer, target, args, callbacks)
        check = reward_guard(result.metrics, config)
        card = CardFacts(
            name="ESWI reward model",
            summary=f"Scores how {target} a Traditional-Chinese text is (one scalar; higher is "
            "more of the target sentiment). Shares the SFT model's tokenizer, as PPO needs.",
            pipeline_tag="text-classification",
            base_model=f"sft_model version {sft_model.version}",
            data=[
                f"labeled_sentiment: {target} sentences chosen over other sentiments "
                f"({counts['labels_pairs']} pairs)",
                "user_feedback comparisons: the answer a user picked over the other answer to "
                f"the same prompt ({counts['comparison_pairs']} pairs; 'both bad' gives none)",
                f"user_feedback ratings: an answer a user rated {MIN_GAP}+ points above another "
                f"answer of the same user ({counts['user_ratings_pairs']} pairs)",
                f"real sentences over loops of their own fragments ({counts['repetition_pairs']} "
                "pairs)",
                "held-out pairs by hash of sentence id / prompt",
            ],
            intended_use="The reward signal for PPO; ranking drafts by sentiment.",
            limitations=[
                "Seed labels are shopping and book reviews: other domains score less reliably.",
                "Reads the score at the final (EOS) token; texts are cut to max_length tokens.",
            ],
            evaluation_data=[
                "held-out label pairs (sentence ids by hash), accuracy per source",
                "probes: fixed sentence pairs, target phrases repeated 15 times and texts of the "
                "other sentiment made 3x longer, each against genuine target-sentiment texts",
            ],
            metrics=result.metrics,
            how_to_load=load_snippet("AutoModelForSequenceClassification"),
        )
        metadata = reward_metadata(result, counts)
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(REWARD_MODEL).result(check)

    return reward_model
