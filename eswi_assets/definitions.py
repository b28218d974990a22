"""The code location: every stage of the model pipeline as assets, wired to the profile's stores."""

from __future__ import annotations

import dagster as dg

from eswi_assets.assets.corpus import build_corpus_assets
from eswi_assets.assets.feedback import build_feedback_assets
from eswi_assets.assets.labels import labeled_sentiment
from eswi_assets.assets.models import build_model_assets
from eswi_assets.jobs import crawl_job
from eswi_assets.profiles import build_resources
from eswi_assets.schedules import build_crawl_schedule
from eswi_assets.sensors.annotations import doccano_annotations_sensor
from eswi_assets.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *build_corpus_assets(settings),
            labeled_sentiment,
            *build_feedback_assets(settings),
            *build_model_assets(settings),
        ],
        jobs=[crawl_job],
        schedules=[build_crawl_schedule(settings)],
        sensors=[doccano_annotations_sensor],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings())
