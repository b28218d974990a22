"""Jobs operators launch by name (from the UI, the CLI, schedules and sensors).

- `crawl_job`: crawl and clean one crawl date (or a range: both assets run a range as one run).
- `training_job`: `base_model` -> `sft_model` -> `reward_model` -> `ppo_model`, on GPU nodes in
  production (`base_model` reuses its checkpoint unless its data version changed).
- `feedback_job`: `reward_model` and everything downstream of it (`ppo_model`, `rating_table`);
  the feedback sensor runs a subset of it: `rating_table` alone, or the retrain.
- `full_pipeline`: every asset. Given a range of crawl dates it crawls and cleans each date and
  trains the (unpartitioned) models once, after all of them.

Jobs with training steps get the production executor (`k8s_job_executor`, one pod per step);
`crawl_job` takes the code location's default executor.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from eswi_assets.executors import build_executor
from eswi_assets.keys import CLEANED_CORPUS, MODEL_KEYS, RAW_PAGES, REWARD_MODEL
from eswi_assets.settings import Settings

CRAWL_JOB = "crawl_job"
TRAINING_JOB = "training_job"
FEEDBACK_JOB = "feedback_job"
FULL_PIPELINE = "full_pipeline"
GPU_JOBS = (TRAINING_JOB, FEEDBACK_JOB, FULL_PIPELINE)

crawl_job = dg.define_asset_job(
    CRAWL_JOB,
    selection=dg.AssetSelection.assets(RAW_PAGES, CLEANED_CORPUS),
    description="Crawl the configured sources and clean the pages for one crawl date.",
)


def build_jobs(settings: Settings) -> list[Any]:
    """Every job of the code location, with the executor `settings` asks for (what
    `dg.define_asset_job` returns, a type Dagster gives no public name)."""
    executor = build_executor(settings)
    training_job = dg.define_asset_job(
        TRAINING_JOB,
        selection=dg.AssetSelection.assets(*MODEL_KEYS),
        executor_def=executor,
        description="Train the SFT model, the reward model and the PPO policy on all crawled "
        "documents, labels and ratings so far (GPU steps in production).",
    )
    feedback_job = dg.define_asset_job(
        FEEDBACK_JOB,
        # Downstream of reward_model rather than named keys, so `rating_table` joins the job as
        # soon as it is defined, and the job still resolves before it is.
        selection=dg.AssetSelection.assets(REWARD_MODEL).downstream(),
        executor_def=executor,
        description="Refresh the rating table for new ratings and, past a threshold of new "
        "ratings, retrain the reward model and the PPO policy.",
    )
    full_pipeline = dg.define_asset_job(
        FULL_PIPELINE,
        selection=dg.AssetSelection.all(),
        executor_def=executor,
        description="Everything: crawl and clean the chosen crawl dates, label, then train the "
        "models once (they read all dates).",
    )
    return [crawl_job, training_job, feedback_job, full_pipeline]
