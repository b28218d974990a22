"""What the model assets share: the store's checkpoint directory and callbacks, the artifact a
step returns (kept out of LATEST when its check fails), the promoted version's metrics, and the
asset options (group, owners, GPU tags and pool)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from transformers import TrainerCallback

from eswi_assets.checks.base import CheckOutcome
from eswi_assets.checks.registry import blocking_check_names
from eswi_assets.executors import gpu_op_tags
from eswi_assets.keys import CLEANED_CORPUS as CORPUS
from eswi_assets.settings import Settings
from eswi_assets.stores.models import (
    ModelArtifact,
    ModelNotFoundError,
    ModelStore,
)
from eswi_assets.training.cards import CardFacts, model_card
from eswi_assets.training.result import TrainingResult

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
    result: TrainingResult,
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


def load_snippet(auto_class: str) -> str:
    return (
        f"from transformers import {auto_class}, AutoTokenizer\n"
        f"model = {auto_class}.from_pretrained(path)\n"
        "tokenizer = AutoTokenizer.from_pretrained(path)"
    )


def training_kwargs(settings: Settings) -> dict:
    """What every model asset shares: group, owners, kinds, the model store, GPU tags and pool."""
    return {
        "group_name": "models",
        "owners": OWNERS,
        "kinds": MODEL_KINDS,
        "io_manager_key": "model_store",
        "op_tags": gpu_op_tags(settings),
        "pool": settings.gpu_pool,
    }
