"""Settings of the serving app, read from `ESWI_SERVING_*` environment variables.

Where models and ratings live is not configured here: the app builds its model store and feedback
store with `eswi_assets.stores.build` from the same `Settings` the code location reads (and the
same plain store classes its resources create), so serving always reads the versions Dagster
promoted and writes ratings where `user_feedback` observes them. Secrets are `SecretStr`, so they
never show up in a repr, a log line or an error.
"""

from __future__ import annotations

import json
import re
import secrets

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eswi_assets.keys import AB_BASELINE, AB_CANDIDATE


class ServingSettings(BaseSettings):
    """The HTTP service, its A/B experiment, batching, limits and the LINE channel."""

    model_config = SettingsConfigDict(env_prefix="ESWI_SERVING_", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

    # models and the experiment
    candidate_asset: str = Field(default=AB_CANDIDATE, description="Served as variant 'candidate'.")
    baseline_asset: str = Field(default=AB_BASELINE, description="Served as variant 'baseline'.")
    baseline_version: str | None = Field(
        default=None,
        description="Pin the baseline to one version (e.g. the previous ppo_model run id with "
        "baseline_asset=ppo_model); None follows the asset's LATEST.",
    )
    candidate_share: float = Field(
        default=0.5, ge=0, le=1, description="Share of users served the candidate; 1 = no A/B."
    )
    experiment_name: str = Field(
        default="ppo-vs-baseline",
        min_length=1,
        description="Part of the assignment hash: a new name reshuffles users.",
    )
    experiment_salt: SecretStr | None = Field(
        default=None,
        description="Secret mixed into the assignment hash, so users cannot pick their variant.",
    )
    reload_poll_seconds: float = Field(
        default=60, ge=0, description="How often LATEST is checked for new versions; 0 = never."
    )
    device: str | None = Field(default=None, description="torch device; None: cuda if present.")
    torch_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads per generate call; None keeps torch's default (all cores). "
        "1 is fastest for small models on a CPU shared with other processes.",
    )

    # batching
    max_batch_size: int = Field(default=16, ge=1, le=256)
    max_wait_ms: float = Field(
        default=10, ge=0, le=1000, description="How long a batch waits to fill."
    )
    max_queue: int = Field(default=256, ge=1, description="Queued requests beyond this get 429.")

    # limits and storage
    max_body_bytes: int = Field(default=16_384, ge=1024, description="Larger bodies get 413.")
    generation_retention_days: float = Field(
        default=30,
        gt=0,
        description="Generations and comparisons older than this can no longer be rated; "
        "unrated ones are then pruned from the feedback store.",
    )

    # per-user rate limits (per replica; 0 turns one off)
    generate_per_minute: float = Field(
        default=30, ge=0, description="Generations per user and minute; a comparison counts 2."
    )
    generate_burst: int = Field(
        default=10, ge=2, description="Generations a user may send at once."
    )
    feedback_per_minute: float = Field(default=60, ge=0, description="Ratings and choices.")
    feedback_burst: int = Field(default=20, ge=1)

    # admin API and API clients
    admin_api_key: SecretStr | None = Field(
        default=None, description="X-API-Key for /v1/admin/*; unset disables the admin API."
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description='API clients, as JSON {"<key>": "<namespace>"}: a request with X-API-Key '
        "<key> acts for user ids <namespace>:<user_id> and may rate what they were served "
        "without a feedback token. 'line' is the LINE webhook's and cannot be a namespace.",
    )

    # LINE channel
    line_channel_secret: SecretStr | None = None
    line_channel_access_token: SecretStr | None = None
    line_api_base_url: str = "https://api.line.me"
    line_max_new_tokens: int = Field(default=96, ge=1, le=256)
    line_max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Webhook bodies larger than this get 413; a delivery can carry many "
        "events of up to 5,000 characters each, so it needs more room than the API's bodies.",
    )
    line_timeout_seconds: float = Field(
        default=10, gt=0, description="Deadline of each Messaging API call; no retries."
    )
    line_max_connections: int = Field(
        default=128, ge=1, description="Messaging API calls in flight at once; more queue."
    )
    line_max_concurrent_events: int = Field(
        default=128, ge=1, description="Webhook events handled at once in this process."
    )
    line_reply_within_seconds: float = Field(
        default=50,
        gt=0,
        le=60,
        description="After this many seconds from an event's timestamp its reply token is "
        "treated as expired (LINE's live about a minute): the answer is pushed instead.",
    )
    line_loading_seconds: int = Field(
        default=20, ge=5, le=60, multiple_of=5, description="Loading animation in 1:1 chats."
    )
    line_group_prefix: str = Field(
        default="/寫",
        description="In groups and rooms the bot answers a mention of itself or a text that "
        "starts with this; empty: mentions only.",
    )

    @field_validator("api_keys")
    @classmethod
    def _valid_clients(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _clients(value)
        return value

    def namespace_for(self, key: str) -> str | None:
        """The namespace of an API key; compared in constant time, so timing tells nothing."""
        found = None
        for known, namespace in _clients(self.api_keys).items():
            if secrets.compare_digest(known.encode(), key.encode()):
                found = namespace
        return found

    @property
    def line_enabled(self) -> bool:
        return self.line_channel_secret is not None and self.line_channel_access_token is not None

    def assignment_salt(self) -> str:
        """The configured secret, or the experiment name (sticky and even, but guessable)."""
        if self.experiment_salt is not None:
            return self.experiment_salt.get_secret_value()
        return self.experiment_name


NAMESPACE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
LINE_NAMESPACE = "line"


def _clients(value: SecretStr | None) -> dict[str, str]:
    """{key: namespace} from the setting; the error names the problem, never a key."""
    if value is None:
        return {}
    try:
        clients = json.loads(value.get_secret_value())
    except json.JSONDecodeError:
        raise ValueError('ESWI_SERVING_API_KEYS must be JSON {"<key>": "<namespace>"}') from None
    if not isinstance(clients, dict) or not all(
        isinstance(key, str) and key and isinstance(ns, str) for key, ns in clients.items()
    ):
        raise ValueError('ESWI_SERVING_API_KEYS must be JSON {"<key>": "<namespace>"}')
    for namespace in clients.values():
        if not NAMESPACE.fullmatch(namespace) or namespace == LINE_NAMESPACE:
            raise ValueError(
                f"API key namespace {namespace!r}: use 1-32 of a-z 0-9 _ - (and not "
                f"{LINE_NAMESPACE!r}, which is the LINE webhook's)"
            )
    return clients
