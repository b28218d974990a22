"""The served models: the latest promoted candidate (PPO) and its baseline, swapped as a whole.

Requests hold a reference to the `ServedModel` they were assigned, so a reload never pulls a
model out from under a queued or running batch: the new `ModelSet` serves new requests, and the
old model is freed once its last request has finished. A version that fails to load keeps the
previous one serving (or, at start-up, leaves the variant unready with the reason why).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from eswi_assets.stores.models import ModelStore

logger = logging.getLogger(__name__)

Variant = Literal["candidate", "baseline"]


@dataclass(frozen=True)
class ModelSource:
    """Where a variant's model comes from: an asset's LATEST, or one pinned version."""

    variant: Variant
    asset: str
    pinned_version: str | None = None


@dataclass(frozen=True, eq=False)
class ServedModel:
    variant: Variant
    asset: str
    version: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    loaded_at: datetime

    @property
    def model_version(self) -> str:
        """`<asset>/<run id>`: one Dagster run may save both the SFT and the PPO model."""
        return f"{self.asset}/{self.version}"

    @property
    def max_positions(self) -> int:
        config = self.model.config
        return int(getattr(config, "n_positions", None) or config.max_position_embeddings)


@dataclass(frozen=True)
class ModelSet:
    """An immutable snapshot: what every variant serves now, and why a variant cannot."""

    models: dict[Variant, ServedModel] = field(default_factory=dict)
    problems: dict[Variant, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.problems


def load_model(store: ModelStore, source: ModelSource, version: str, device: str) -> ServedModel:
    model, tokenizer = store.fetch(source.asset, version).load()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return ServedModel(
        variant=source.variant,
        asset=source.asset,
        version=version,
        model=model.to(device).eval(),
        tokenizer=tokenizer,
        loaded_at=datetime.now(UTC),
    )


class ModelRegistry:
    """Loads each source's wanted version and swaps the whole set in one assignment."""

    def __init__(self, store: ModelStore, sources: list[ModelSource], device: str | None) -> None:
        self.store = store
        self.sources = sources
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._lock = threading.Lock()
        self.current = ModelSet(problems={s.variant: "loading" for s in sources})

    def wanted_versions(self) -> dict[Variant, str | None]:
        return {
            s.variant: s.pinned_version or self.store.latest_version(s.asset) for s in self.sources
        }

    def reload(self) -> ModelSet:
        """Loads what changed since the last reload; safe to call from several threads."""
        with self._lock:
            before = self.current
            models: dict[Variant, ServedModel] = {}
            problems: dict[Variant, str] = {}
            for source in self.sources:
                old = before.models.get(source.variant)
                try:
                    wanted = source.pinned_version or self.store.latest_version(source.asset)
                    if wanted is None:
                        raise LookupError(f"no promoted version yet: materialize {source.asset}")
                    if old is not None and old.asset == source.asset and old.version == wanted:
                        models[source.variant] = old
                        continue
                    models[source.variant] = load_model(self.store, source, wanted, self.device)
                    logger.info(
                        "serving %s as %s", models[source.variant].model_version, source.variant
                    )
                except Exception as error:  # any broken directory or pointer: report, keep serving
                    reason = f"cannot load {source.asset}: {type(error).__name__}: {error}"
                    logger.warning("%s (variant %s)", reason, source.variant)
                    if old is not None:
                        models[source.variant] = old
                    else:
                        problems[source.variant] = reason
            self.current = ModelSet(models=models, problems=problems)
            return self.current

    def is_stale(self) -> bool:
        """Whether LATEST moved (or a variant is still missing): cheap, reads pointers only."""
        current = self.current
        if current.problems:
            return True
        wanted = self.wanted_versions()
        return any(current.models[v].version != version for v, version in wanted.items())
