"""The model half: `base_model` -> `sft_model` -> `reward_model` -> `ppo_model`, one module per
asset.

Each asset gathers its inputs, calls one training function from `eswi_assets.training`, and
returns a `ModelArtifact` that the `model_store` IO manager saves per run. Training steps carry
GPU op tags and a concurrency pool from Settings, so on Kubernetes each step gets one card.
"""

from __future__ import annotations

import dagster as dg

from eswi_assets.assets.models.base import build_base_model
from eswi_assets.assets.models.ppo import build_ppo_model
from eswi_assets.assets.models.reward import build_reward_model
from eswi_assets.assets.models.sft import build_sft_model
from eswi_assets.settings import Settings


def build_model_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The model assets, with GPU scheduling and the base model taken from `settings`."""
    builders = (build_base_model, build_sft_model, build_reward_model, build_ppo_model)
    return [build(settings) for build in builders]
