"""One typed view of the environment: which profile runs and where every service lives.

Everything that differs between a laptop and production is read here, from ``ESWI_*``
environment variables, so no asset ever branches on the environment itself. Secrets are not
fields: resources read them through ``dg.EnvVar`` so they never appear in config or logs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eswi_assets.cleaning.options import DEFAULTS as CLEANING

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CRAWL_CRON = "0 2 * * *"


class Profile(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Settings shared by the code location, the CLI helpers and the tests."""

    model_config = SettingsConfigDict(env_prefix="ESWI_", env_nested_delimiter="__", frozen=True)

    profile: Profile = Profile.LOCAL
    data_dir: Path = Field(
        default=Path(".eswi"),
        description="Embedded stores (DuckDB, models, feedback) live here in the local profile.",
    )
    timezone: str = "Asia/Taipei"
    partitions_start: str = Field(default="2026-11-01", pattern=r"^\d{4}-\d{2}-\d{2}$")

    # crawl
    crawl_cron: str = Field(
        default=DEFAULT_CRAWL_CRON, description="When the crawl runs, local time."
    )
    crawl_sources: Path = PACKAGE_DIR / "crawl" / "sources" / "demo.yaml"
    chromium_path: Path = Path("/usr/bin/chromium")
    chromedriver_path: Path = Path("/usr/bin/chromedriver")
    browser_pool_size: int = Field(default=2, ge=1, le=16)
    browser_pages_per_driver: int = Field(
        default=50, ge=1, description="Recycle a driver after this many pages to bound leaks."
    )

    # clean
    min_body_chars: int = Field(default=CLEANING.min_body_chars, ge=0)
    max_body_chars: int = Field(default=CLEANING.max_body_chars, ge=1)
    min_cjk_share: float = Field(default=CLEANING.min_cjk_share, ge=0, le=1)
    near_duplicate_threshold: float = Field(default=CLEANING.near_duplicate_threshold, gt=0, le=1)

    # label and train
    target_sentiment: Literal["positive", "negative"] = "positive"
    base_model: str | None = Field(
        default=None,
        description="Hugging Face id or local directory; None builds a tiny GPT-2 from config.",
    )
    gpu_pool: str = "gpu"
    gpu_pool_limit: int = Field(
        default=1, ge=1, description="Training steps at once across all runs: the GPU card count."
    )
    training_cpu: str = Field(
        default="4", description="CPU request and limit of a training step pod (a GPU node's)."
    )
    training_memory: str = Field(
        default="32Gi", description="Memory request and limit of a training step pod."
    )
    gpu_node_selector: dict[str, str] = Field(
        default_factory=lambda: {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    )
    gpu_tolerations: list[dict[str, str]] = Field(
        default_factory=lambda: [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    )

    # automation: retrain when this much new data has arrived since the last training run
    retrain_min_new_documents: int = Field(default=200, ge=1)
    retrain_min_new_labels: int = Field(default=100, ge=1)
    retrain_min_new_units: int = Field(
        default=50,
        ge=1,
        # ESWI_RETRAIN_MIN_NEW_RATINGS, its name before comparisons, is still read.
        validation_alias=AliasChoices(
            "retrain_min_new_units", "ESWI_RETRAIN_MIN_NEW_UNITS", "ESWI_RETRAIN_MIN_NEW_RATINGS"
        ),
        description="Usable feedback units since the last retrain before feedback_sensor "
        "retrains: a comparison with a clear pick (one preference pair) or a newly rated answer "
        "(a label the within-user pairing uses); re-ratings and 'both bad' do not count.",
    )
    sensor_interval_seconds: int = Field(default=60, ge=5)

    # Kubernetes (production): each training step is a pod from this image
    k8s_executor: bool | None = Field(
        default=None, description="Run steps as Kubernetes jobs; default: on in production."
    )
    k8s_image: str | None = Field(
        default=None, description="Step-pod image; None reuses the run worker's image."
    )
    k8s_namespace: str = "eswi"
    k8s_env_secrets: list[str] = Field(default_factory=lambda: ["eswi-secrets"])
    k8s_max_concurrent_steps: int = Field(default=4, ge=1)

    # production endpoints (secrets are read by resources through dg.EnvVar)
    elasticsearch_url: str = "http://127.0.0.1:9200"
    es_index_prefix: str = Field(default="eswi-", description="Aliases are <prefix><asset>.")
    s3_bucket: str = "eswi-models"
    s3_prefix: str = "models"
    s3_endpoint_url: str | None = None
    aws_region: str = Field(default="us-east-1", description="Region of the S3 model store.")
    labeling: Literal["seed", "doccano"] | None = Field(
        default=None, description="Where labels come from; default: doccano in production."
    )
    doccano_url: str = "http://127.0.0.1:8000"
    doccano_username: str = "admin"
    doccano_project: str = "eswi-sentiment"

    @field_validator("crawl_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        """Dagster's own cron rules, through its public API; imported only here, so plain code
        reading Settings needs Dagster only when it sets a cron."""
        if value == DEFAULT_CRAWL_CRON:
            return value
        import dagster as dg

        try:
            dg.ScheduleDefinition(name="crawl_cron", cron_schedule=value, job_name="crawl_job")
        except dg.DagsterInvalidDefinitionError as error:
            raise ValueError(f"ESWI_CRAWL_CRON={value!r} is not a valid cron expression") from error
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
        return value

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "pipeline.duckdb"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def feedback_db_path(self) -> Path:
        return self.data_dir / "feedback.sqlite"

    @property
    def is_production(self) -> bool:
        return self.profile is Profile.PRODUCTION

    @property
    def uses_doccano(self) -> bool:
        return self.is_production if self.labeling is None else self.labeling == "doccano"

    @property
    def uses_k8s_executor(self) -> bool:
        return self.is_production if self.k8s_executor is None else self.k8s_executor
