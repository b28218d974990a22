"""Reading back what the stores hold, and cleaning up after a test, in either profile."""

from __future__ import annotations

import duckdb
import pandas as pd
from elasticsearch import Elasticsearch

from eswi_assets.profiles import build_resources
from eswi_assets.settings import Settings


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
