"""A ranged run records, per crawl date, exactly what a run of that date alone records: row
counts and previews on each partition's materialization, and one result per check and date.
Real Chromium against the demo site, DuckDB, a real DagsterInstance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from eswi_assets.checks.corpus_checks import CHECKS
from eswi_assets.demo_site.server import DemoSite
from eswi_assets.keys import CLEANED_CORPUS, RAW_PAGES
from eswi_assets.settings import Settings
from eswi_assets_tests.assets.test_corpus_assets import RANGE_TAGS, materialize, write_sources

pytestmark = pytest.mark.browser

DATES = ["2026-11-01", "2026-11-02", "2026-11-03"]
COMPARED = ("dagster/row_count", "ok_pages", "outcomes", "preview", "documents_per_source")


def per_partition(instance: dg.DagsterInstance, asset: str) -> dict[str, dict]:
    """partition -> the compared metadata of its latest materialization."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
    latest: dict[str, dict] = {}
    for record in records:  # newest first
        event = record.asset_materialization
        if event.partition not in latest:
            latest[event.partition] = {
                k: v.value for k, v in event.metadata.items() if k in COMPARED
            }
    return latest


def check_results(instance: dg.DagsterInstance, asset: str) -> dict[tuple[str, str], str]:
    """(check, partition) -> status of its latest evaluation; partition-less ones as None."""
    results = {}
    for check in CHECKS[asset]:
        key = dg.AssetCheckKey(dg.AssetKey(asset), check.name)
        for record in instance.event_log_storage.get_asset_check_execution_history(key, 100):
            results.setdefault((check.name, record.partition), record.status.value)
    return results


def test_a_three_date_range_records_what_three_single_date_runs_record(
    site: DemoSite, tmp_path: Path
):
    sources = write_sources(tmp_path / "sources.yaml", site.base_url, max_pages=12)
    ranged, single = dg.DagsterInstance.ephemeral(), dg.DagsterInstance.ephemeral()
    assert materialize(
        Settings(data_dir=tmp_path / "ranged", crawl_sources=sources),
        instance=ranged,
        tags=RANGE_TAGS,
    ).success
    single_settings = Settings(data_dir=tmp_path / "single", crawl_sources=sources)
    for date in DATES:
        assert materialize(single_settings, instance=single, partition_key=date).success

    for asset in (RAW_PAGES, CLEANED_CORPUS):
        assert per_partition(ranged, asset) == per_partition(single, asset)
        assert sorted(per_partition(ranged, asset)) == DATES
        results = check_results(ranged, asset)
        assert results == check_results(single, asset)
        assert {partition for _, partition in results} == set(DATES)  # none without a partition
    counts = per_partition(ranged, CLEANED_CORPUS)
    assert all(
        0 < counts[d]["dagster/row_count"] < 3 * counts[DATES[0]]["dagster/row_count"]
        for d in DATES
    )
