"""The code location: every stage of the model pipeline as assets, wired to the profile's stores."""

from __future__ import annotations

import dagster as dg

from eswi_assets.assets.corpus import build_corpus_assets
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*build_corpus_assets(settings)],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings())
