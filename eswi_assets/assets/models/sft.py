"""`sft_model`: `base_model` fine-tuned to expand a title and summary into a body.

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
    previous_metrics,
    training_kwargs,
)
from eswi_assets.assets.models.params import SftParams
from eswi_assets.checks.gates import gated_frame
from eswi_assets.checks.model_checks import (
    SFT_GUARD as SFT_GUARD_NAME,
)
from eswi_assets.checks.model_checks import (
    model_check,
    sft_guard,
)
from eswi_assets.checks.registry import check_specs
from eswi_assets.keys import CLEANED_CORPUS as CORPUS
from eswi_assets.keys import SFT_MODEL
from eswi_assets.settings import Settings
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelStore,
    StoredModel,
)
from eswi_assets.training.cards import CardFacts
from eswi_assets.training.result import TrainingResult
from eswi_assets.training.sft import train_sft


def sft_metadata(result: TrainingResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    return {
        **floats(m, [k for k in m if not k.endswith(("tokens", "documents", "parameters"))]),
        **{k: dg.MetadataValue.int(int(m[k])) for k in m if k.endswith(("tokens", "documents"))},
        "parameters": dg.MetadataValue.int(int(m["parameters"])),
        "samples": table(result.examples),
        "loss_plot": line_plot(
            {
                "train": history_series(result.history, "loss"),
                "eval": history_series(result.history, "eval_loss"),
            },
            "SFT loss",
            "cross-entropy (nats/token)",
        ),
    }


def build_sft_model(settings: Settings) -> dg.AssetsDefinition:

    @dg.asset(
        ins={"cleaned_corpus": ALL_PARTITIONS, "base_model": dg.AssetIn()},
        check_specs=check_specs(SFT_MODEL),
        **training_kwargs(settings),
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
        args = config.trl_config(output_dir)
        result = train_sft(
            cleaned_corpus, model, tokenizer, args, config.sample_new_tokens, callbacks
        )
        check = sft_guard(result.metrics, config, previous_metrics(model_store, SFT_MODEL))
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
            how_to_load=load_snippet("AutoModelForCausalLM"),
        )
        metadata = sft_metadata(result) | corpus_gate.metadata()
        yield dg.Output(artifact(context, result, card, check), metadata=metadata)
        yield model_check(SFT_MODEL).result(check)

    return sft_model
