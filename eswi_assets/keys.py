"""The asset keys of the graph, named once.

Plain strings (no Dagster), so the serving app, the plain training code and the Dagster side all
spell a key the same way; a renamed asset is one edit here and the definitions snapshot test
shows the change.
"""

from __future__ import annotations

RAW_PAGES = "raw_pages"
CLEANED_CORPUS = "cleaned_corpus"
LABELED_SENTIMENT = "labeled_sentiment"
BASE_MODEL = "base_model"
SFT_MODEL = "sft_model"
REWARD_MODEL = "reward_model"
PPO_MODEL = "ppo_model"
USER_FEEDBACK = "user_feedback"
RATING_TABLE = "rating_table"

MODEL_KEYS = (BASE_MODEL, SFT_MODEL, REWARD_MODEL, PPO_MODEL)

# The A/B test: users are served the candidate or the baseline, and rating_table compares the
# two; serving's settings and rating_table's run config both default to these.
AB_CANDIDATE = PPO_MODEL
AB_BASELINE = SFT_MODEL
