"""ESWI pipeline: Dagster code location."""

import warnings

# The beta and experimental APIs this code location chooses to use, silenced here and only here
# so run logs stay readable; any other warning (a new beta API, a deprecation) still shows.
# Matched by message so plain modules importing this package do not import Dagster.
for _message in (
    r"Parameter `(backfill_policy|use_user_code_server|default_condition)` .* is currently in beta",
    r"Function `(multi_)?observable_source_asset` is currently in beta",
    r"Specifying a partitions_def on an AssetCheckSpec is currently in preview",
    r"You are importing from 'trl\.experimental'",
):
    warnings.filterwarnings("ignore", message=_message)
