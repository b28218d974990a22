"""`ppo_model`: the SFT policy steered toward the target sentiment with PPO against
`reward_model`.

No `from __future__ import annotations` here: Dagster reads the run-config class from the real
annotation of the asset's `config` parameter.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from eswi_assets.assets.metadata import floats, history_series, line_plot, table
from eswi_assets.assets.models.common import (
    ALL_PARTITIONS,
    CORPUS_GATE,
    artifact,
    checkpointing,
    load_snippet,
    training_kwargs,
)
from eswi_assets.assets.models.params import PpoParams
from eswi_assets.checks.gates import gated_frame
from eswi_assets.checks.model_checks import (
    PPO_GUARD as PPO_GUARD_NAME,
)
from eswi_assets.checks.model_checks import (
    model_check,
    ppo_guard,
)
from eswi_assets.checks.registry import check_specs
from eswi_assets.keys import CLEANED_CORPUS as CORPUS
from eswi_assets.keys import PPO_MODEL
from eswi_assets.settings import Settings
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelStore,
    StoredModel,
)
from eswi_assets.training.cards import CardFacts
from eswi_assets.training.data import (
    TrainingDataError,
)
from eswi_assets.training.ppo import train_ppo
from eswi_assets.training.result import TrainingResult


def ppo_metadata(result: TrainingResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **floats(m, list(m)),
        "stopped": dg.MetadataValue.text(result.stop_reason),
        "samples": table(result.examples.head(8), chars=60),
        "reward_plot": line_plot(
            {"reward model score": history_series(result.history, "objective/scores")},
            "PPO reward per update",
            "mean score",
        ),
        "kl_plot": line_plot(
            {"KL to reference": history_series(result.history, "objective/kl")},
            "PPO KL per update",
            "nats per response",
        ),
    }


def build_ppo_model(settings: Settings) -> dg.AssetsDefinition:
    target = settings.target_sentiment

    @dg.asset(
        ins={
            "cleaned_corpus": ALL_PARTITIONS,
            "sft_model": dg.AssetIn(),
            "reward_model": dg.AssetIn(),
        },
        check_specs=check_specs(PPO_MODEL),
        **training_kwargs(settings),
    )
    def ppo_model(
        context: dg.AssetExecutionContext,
        config: PpoParams,
        model_store: dg.ResourceParam[ModelStore],
        cleaned_corpus: pd.DataFrame,
        sft_model: StoredModel,
        reward_model: StoredModel,
    ) -> Iterator[dg.Output[ModelArtifact] | dg.AssetCheckResult]:
        """Policy steered with PPO toward the target sentiment: policy and reference from
        `sft_model`, reward and value from `reward_model`, prompts from held-out documents."""
        cleaned_corpus, corpus_gate = gated_frame(context, CORPUS, CORPUS_GATE, cleaned_corpus)
        policy, tokenizer = sft_model.load()
        scorer, scorer_tokenizer = reward_model.load()
        if scorer_tokenizer.get_vocab() != tokenizer.get_vocab():
            raise TrainingDataError(
                f"reward_model {reward_model.version} uses another tokenizer than sft_model "
                f"{sft_model.version}; rematerialize reward_model after sft_model"
            )
        output_dir, callbacks = checkpointing(model_store, PPO_MODEL, context)
        args, options = config.trl_config(output_dir), config.options()
        result = train_ppo(
            cleaned_corpus, policy, tokenizer, scorer, target, args, options, callbacks
        )
        check = ppo_guard(result.metrics, config)
        card = CardFacts(
            name="ESWI PPO model",
            summary=f"Expands a title and summary into a body, steered toward {target} "
            "sentiment with PPO against the ESWI reward model.",
            pipeline_tag="text-generation",
            base_model=f"sft_model version {sft_model.version}",
            data=[
                "Prompts: held-out cleaned_corpus documents (title + summary) SFT never saw",
                f"Rewards: reward_model version {reward_model.version}",
            ],
            intended_use="Drafting encouraging community texts that people review before use.",
            limitations=[
                "Optimised for a learned score: it can favour stock phrases over content.",
                "Tiny default model: fluency is limited; check facts and tone by hand.",
                f"Kept out of LATEST unless check {PPO_GUARD_NAME} passes: judge gain >= "
                f"{config.min_judge_gain} (interval above 0), KL <= {config.max_kl_per_token} "
                "nats/token, no degeneration against SFT.",
            ],
            evaluation_data=[
                f"{int(result.metrics['eval_prompts'])} held-out prompts x {config.eval_samples} "
                "samples, SFT and PPO alike, judged by pysenti's lexicon classifier (shares no "
                "data with the reward model); paired bootstrap over prompts",
            ],
            metrics=result.metrics,
            how_to_load=load_snippet("AutoModelForCausalLM"),
        )
        metadata = ppo_metadata(result) | corpus_gate.metadata()
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(PPO_MODEL).result(check)

    return ppo_model
