"""The code location: every stage of the model pipeline as assets, wired to the profile's stores."""

from __future__ import annotations

import dagster as dg

from eswi_assets.assets.corpus import build_corpus_assets
from eswi_assets.assets.feedback import build_feedback_assets
from eswi_assets.assets.labels import labeled_sentiment
from eswi_assets.assets.models import build_model_assets
from eswi_assets.assets.ratings import build_rating_assets
from eswi_assets.automation import build_automation_sensors
from eswi_assets.executors import build_executor
from eswi_assets.jobs import build_jobs
from eswi_assets.profiles import build_resources
from eswi_assets.schedules import build_crawl_schedule
from eswi_assets.sensors.annotations import doccano_annotations_sensor
from eswi_assets.sensors.feedback import build_feedback_sensor
from eswi_assets.sensors.observations import build_user_feedback_sensor
from eswi_assets.sensors.training import build_training_sensor
from eswi_assets.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *build_corpus_assets(settings),
            labeled_sentiment,
            *build_feedback_assets(settings),
            *build_model_assets(settings),
            *build_rating_assets(settings),
        ],
        jobs=build_jobs(settings),
        schedules=[build_crawl_schedule(settings)],
        sensors=[
            doccano_annotations_sensor,
            build_training_sensor(settings),
            build_feedback_sensor(settings),
            build_user_feedback_sensor(settings),
            *build_automation_sensors(settings),
        ],
        resources=build_resources(settings),
        executor=build_executor(settings),
    )


defs = build_definitions(Settings())
