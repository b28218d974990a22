"""Rows to store, reading back what the stores hold, and cleaning up after a test, in either
profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
from elasticsearch import Elasticsearch

from eswi_assets.profiles import build_resources
from eswi_assets.settings import Settings
from eswi_assets.stores.feedback import Feedback

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def feedback(n: int, rating: int = 4, user: str = "U123") -> Feedback:
    """Rating number `n`, given `n` minutes after T0."""
    return Feedback(
        feedback_id=f"f{n}",
        generation_id=f"g{n}",
        model_version="ppo_model/run-1",
        prompt="社區長照",
        response="志工很熱心。",
        rating=rating,
        user_id=user,
        channel="line",
        created_at=T0 + timedelta(minutes=n),
    )


def stored_table(settings: Settings, name: str) -> pd.DataFrame:
    """An asset's stored rows, read from whichever store the profile uses."""
    if settings.is_production:
        return build_resources(settings)["io_manager"].read(name)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.sql(f"select * from eswi.{name}").df()


def drop_prefixed(es: Elasticsearch, prefix: str) -> None:
    """Removes the indices and index templates a test created under its prefix."""
    for name in es.indices.get(index=f"{prefix}*", expand_wildcards="all"):
        es.indices.delete(index=name)
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*")
    for template in templates.get("index_templates", []):
        es.indices.delete_index_template(name=template["name"])
