"""Plain training code: tiny base models, SFT / reward / PPO steps with TRL, evaluation, cards.

Nothing here imports Dagster. Like TRL's own scripts, each step takes TRL's config object
(`SFTConfig`, `RewardConfig`, `PPOConfig`) plus a small dataclass for what TRL has no field for,
and returns one `TrainingResult`; the Launchpad run-config classes that build those configs live
with the assets (`eswi_assets.assets.models.params`). Tests and benchmarks call these functions
directly.
"""
