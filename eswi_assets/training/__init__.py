"""Plain training code: tiny base models, SFT / reward / PPO steps with TRL, evaluation, cards.

Nothing here needs a Dagster run (hyperparameters are `dg.Config` models, usable on their own):
the assets in `eswi_assets.assets.models` call these functions, and so do tests and benchmarks.
"""
