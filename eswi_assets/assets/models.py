"""The model half: `sft_model` -> `reward_model` -> `ppo_model`.

Each asset gathers its inputs, calls one training function from `eswi_assets.training`, and
returns a `ModelArtifact` that the `model_store` IO manager saves per run. Training steps carry
GPU op tags and a concurrency pool from Settings, so on Kubernetes each step gets one card.

No `from __future__ import annotations` here: Dagster reads the run-config classes from the real
annotations of the assets' `config` parameters.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from transformers import TrainerCallback

from eswi_assets.assets.feedback import USER_FEEDBACK
from eswi_assets.checks.model_checks import (
    PPO_MODEL,
    REWARD_MODEL,
    model_check_specs,
    ppo_guard,
    reward_direction,
)
from eswi_assets.resources.feedback_store import FeedbackStore
from eswi_assets.resources.gpu import gpu_op_tags
from eswi_assets.resources.model_store import ModelArtifact, ModelStore, StoredModel
from eswi_assets.settings import Settings
from eswi_assets.training.cards import CardFacts, model_card
from eswi_assets.training.data import TrainingDataError, feedback_pairs, label_pairs
from eswi_assets.training.plots import history_series, line_plot
from eswi_assets.training.ppo import PpoParams, PpoResult, train_ppo
from eswi_assets.training.reward import RewardParams, RewardResult, train_reward
from eswi_assets.training.sft import SftParams, TrainingResult, train_sft

OWNERS = ["team:ml-engineering"]
MODEL_KINDS = {"pytorch", "transformers"}
SFT_MODEL = "sft_model"
ALL_PARTITIONS = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())


def checkpoint_key(context: dg.AssetExecutionContext) -> str:
    """Checkpoints are kept under the first run of a retry chain, so a run re-executed from
    failure (or retried automatically) resumes where its first attempt stopped."""
    return context.run.root_run_id or context.run_id


def checkpointing(
    store: ModelStore, asset: str, context: dg.AssetExecutionContext
) -> tuple[Path, list[TrainerCallback]]:
    """The trainer's output directory and the callbacks that keep its checkpoints in the store."""
    key = checkpoint_key(context)
    return store.checkpoint_dir(asset, key), store.checkpoint_callbacks(asset, key)


def artifact(
    context: dg.AssetExecutionContext,
    result: TrainingResult | RewardResult | PpoResult,
    card: CardFacts,
    check: dg.AssetCheckResult | None = None,
) -> ModelArtifact:
    """The version to save; a failed blocking check keeps it out of LATEST."""
    return ModelArtifact(
        result.model,
        result.tokenizer,
        model_card(card),
        result.metrics,
        promote=check is None or check.passed,
        checkpoint_key=checkpoint_key(context),
    )


def _md_table(df: pd.DataFrame, chars: int = 80) -> dg.MetadataValue:
    shown = df.copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].astype(str).str.replace("\n", " ").str.slice(0, chars)
    return dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".3f"))


def _floats(metrics: dict[str, float], keys: list[str]) -> dict[str, dg.MetadataValue]:
    return {k: dg.MetadataValue.float(float(metrics[k])) for k in keys if k in metrics}


def _load_snippet(auto_class: str) -> str:
    return (
        f"from transformers import {auto_class}, AutoTokenizer\n"
        f"model = {auto_class}.from_pretrained(path)\n"
        "tokenizer = AutoTokenizer.from_pretrained(path)"
    )


def sft_metadata(result: TrainingResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **_floats(m, ["eval_loss", "perplexity"]),
        **{k: dg.MetadataValue.int(int(m[k])) for k in m if k.endswith(("tokens", "documents"))},
        "parameters": dg.MetadataValue.int(int(m["parameters"])),
        "samples": _md_table(result.samples),
        "loss_plot": line_plot(
            {
                "train": history_series(result.history, "loss"),
                "eval": history_series(result.history, "eval_loss"),
            },
            "SFT loss",
            "cross-entropy (nats/token)",
        ),
    }


def reward_metadata(result: RewardResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **_floats(m, [k for k in m if k.endswith(("accuracy", "margin")) or k == "probe_gap"]),
        **{k: dg.MetadataValue.int(int(m[k])) for k in m if k.endswith("pairs")},
        "probes": _md_table(result.probes),
        "loss_plot": line_plot(
            {
                "loss": history_series(result.history, "loss"),
                "accuracy": history_series(result.history, "accuracy"),
            },
            "Reward model training",
            "pairwise loss / accuracy",
        ),
    }


def ppo_metadata(result: PpoResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **_floats(m, list(m)),
        "samples": _md_table(result.samples.head(8), chars=60),
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


def build_model_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The model assets, with GPU scheduling and the base model taken from `settings`."""
    target = settings.target_sentiment
    base_name = settings.base_model or "tiny GPT-2 built from GPT2Config (byte-level BPE)"
    training = {
        "group_name": "models",
        "owners": OWNERS,
        "kinds": MODEL_KINDS,
        "io_manager_key": "model_store",
        "op_tags": gpu_op_tags(settings),
        "pool": settings.gpu_pool,
    }

    @dg.asset(ins={"cleaned_corpus": ALL_PARTITIONS}, **training)
    def sft_model(
        context: dg.AssetExecutionContext,
        config: SftParams,
        model_store: dg.ResourceParam[ModelStore],
        cleaned_corpus: pd.DataFrame,
    ) -> dg.Output[ModelArtifact]:
        """Causal LM fine-tuned to expand title + summary into the body, on every crawled
        document except a held-out split (by doc_id hash) used for eval loss and by PPO."""
        output_dir, callbacks = checkpointing(model_store, SFT_MODEL, context)
        result = train_sft(cleaned_corpus, config, output_dir, settings.base_model, callbacks)
        card = CardFacts(
            name="ESWI SFT model",
            summary="Expands a Traditional-Chinese title and summary into a body text.",
            pipeline_tag="text-generation",
            base_model=base_name,
            data=[
                f"cleaned_corpus: {int(result.metrics['train_documents'])} crawled documents "
                "(PII replaced by typed placeholders), all crawl dates",
                f"{int(result.metrics['eval_documents'])} documents held out by doc_id hash",
            ],
            intended_use="Drafting community texts for people to edit; the first stage "
            "before sentiment steering with PPO.",
            limitations=[
                "Small model and corpus: text is often ungrammatical or repetitive.",
                "Learns the crawled sources' style and biases; not a source of facts.",
                "Prompt format: eswi_assets.training.data.format_prompt(title, summary).",
            ],
            metrics=result.metrics,
            how_to_load=_load_snippet("AutoModelForCausalLM"),
        )
        return dg.Output(artifact(context, result, card), metadata=sft_metadata(result))

    @dg.asset(
        ins={"labeled_sentiment": dg.AssetIn(), "sft_model": dg.AssetIn()},
        deps=[USER_FEEDBACK],
        check_specs=model_check_specs(REWARD_MODEL),
        **training,
    )
    def reward_model(
        context: dg.AssetExecutionContext,
        config: RewardParams,
        model_store: dg.ResourceParam[ModelStore],
        feedback_store: FeedbackStore,
        labeled_sentiment: pd.DataFrame,
        sft_model: StoredModel,
    ) -> Iterator[dg.Output[ModelArtifact] | dg.AssetCheckResult]:
        """Scalar sentiment scorer on the SFT backbone and tokenizer, trained on preference
        pairs: labeled sentences of the target sentiment over the others, and for one prompt
        a higher-rated response over a lower-rated one."""
        pairs = label_pairs(labeled_sentiment, target, config.max_label_pairs, config.seed)
        from_feedback = feedback_pairs(feedback_store.read_all())
        context.log.info(f"{len(pairs)} pairs from labels, {len(from_feedback)} from feedback")
        policy, tokenizer = sft_model.load()
        result = train_reward(
            pd.concat([pairs, from_feedback], ignore_index=True),
            policy,
            tokenizer,
            target,
            config,
            *checkpointing(model_store, REWARD_MODEL, context),
        )
        check = reward_direction(result.metrics)
        card = CardFacts(
            name="ESWI reward model",
            summary=f"Scores how {target} a Traditional-Chinese text is (one scalar; higher is "
            "more of the target sentiment). Shares the SFT model's tokenizer, as PPO needs.",
            pipeline_tag="text-classification",
            base_model=f"sft_model version {sft_model.version}",
            data=[
                f"labeled_sentiment: {target} sentences chosen over other sentiments",
                "user_feedback: for one prompt, higher-rated responses over lower-rated ones",
                "held-out pairs by hash of sentence id / prompt",
            ],
            intended_use="The reward signal for PPO; ranking drafts by sentiment.",
            limitations=[
                "Seed labels are shopping and book reviews: other domains score less reliably.",
                "Reads the score at the final (EOS) token; texts are cut to max_length tokens.",
            ],
            metrics=result.metrics,
            how_to_load=_load_snippet("AutoModelForSequenceClassification"),
        )
        yield dg.Output(artifact(context, result, card, check), metadata=reward_metadata(result))
        yield check

    @dg.asset(
        ins={
            "cleaned_corpus": ALL_PARTITIONS,
            "sft_model": dg.AssetIn(),
            "reward_model": dg.AssetIn(),
        },
        check_specs=model_check_specs(PPO_MODEL),
        **training,
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
        policy, tokenizer = sft_model.load()
        scorer, scorer_tokenizer = reward_model.load()
        if scorer_tokenizer.get_vocab() != tokenizer.get_vocab():
            raise TrainingDataError(
                f"reward_model {reward_model.version} uses another tokenizer than sft_model "
                f"{sft_model.version}; rematerialize reward_model after sft_model"
            )
        result = train_ppo(
            cleaned_corpus,
            policy,
            tokenizer,
            scorer,
            target,
            config,
            *checkpointing(model_store, PPO_MODEL, context),
        )
        check = ppo_guard(result.metrics, config.max_kl, config.min_judge_gain)
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
                f"Kept out of LATEST unless KL <= {config.max_kl} and the independent judge "
                "improves (check kl_bounded_and_judge_improves).",
            ],
            metrics=result.metrics,
            how_to_load=_load_snippet("AutoModelForCausalLM"),
        )
        yield dg.Output(artifact(context, result, card, check), metadata=ppo_metadata(result))
        yield check

    return [sft_model, reward_model, ppo_model]
