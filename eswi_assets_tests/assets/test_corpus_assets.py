"""raw_pages -> cleaned_corpus through Dagster, on real Chromium against the demo site, in each
profile: stored in DuckDB (local) and in a real Elasticsearch (production)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from eswi_assets.definitions import build_definitions
from eswi_assets.demo_site.generate import SiteManifest
from eswi_assets.demo_site.server import DemoSite
from eswi_assets.profiles import build_resources
from eswi_assets.settings import Settings
from eswi_assets_tests.stores import stored_table as table

pytestmark = pytest.mark.browser

RANGE_TAGS = {
    "dagster/asset_partition_range_start": "2026-11-01",
    "dagster/asset_partition_range_end": "2026-11-03",
}


def write_sources(path: Path, base_url: str, max_pages: int) -> Path:
    source = {
        "render_js": True,
        "start_urls": [f"{base_url}/"],
        "allowed_domains": ["127.0.0.1"],
        "max_depth": 4,
        "max_pages": max_pages,
        "delay_seconds": 0,
        "wait_for": "article, ul.articles",
    }
    config = {"user_agent": "eswi-test/1.0", "sources": [{"name": "demo", **source}]}
    path.write_text(yaml.safe_dump(config))
    return path


def materialize(settings: Settings, **kwargs) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    assets = [defs.get_assets_def(key) for key in ("raw_pages", "cleaned_corpus")]
    return dg.materialize(assets, resources=build_resources(settings), **kwargs)


def test_three_date_backfill_gives_three_partitions_and_a_rerun_replaces_one(
    site: DemoSite, tmp_path: Path, settings_for
):
    sources = write_sources(tmp_path / "sources.yaml", site.base_url, max_pages=12)
    settings = settings_for(crawl_sources=sources)
    instance = dg.DagsterInstance.ephemeral()

    assert materialize(settings, instance=instance, tags=RANGE_TAGS).success
    before = table(settings, "raw_pages")
    per_day = before.groupby("partition_date").size()
    assert [str(d.date()) for d in per_day.index] == ["2026-11-01", "2026-11-02", "2026-11-03"]

    assert materialize(settings, instance=instance, partition_key="2026-11-02").success
    after = table(settings, "raw_pages")
    assert after.groupby("partition_date").size().to_dict() == per_day.to_dict()
    corpus = table(settings, "cleaned_corpus")
    assert corpus.groupby("partition_date")["doc_id"].apply(lambda s: s.is_unique).all()
    assert corpus["partition_date"].nunique() == 3


def test_whole_site_crawl_keeps_rendered_text_and_removes_every_planted_pii_item(
    manifest: SiteManifest, site: DemoSite, tmp_path: Path, settings_for
):
    sources = write_sources(tmp_path / "sources.yaml", site.base_url, max_pages=400)
    settings = settings_for(crawl_sources=sources)
    result = materialize(settings, partition_key="2026-11-05")
    assert result.success

    assert not any(path.startswith(manifest.disallowed_prefix) for path in site.hits)
    corpus = table(settings, "cleaned_corpus")
    bodies = dict(
        zip(corpus["url"].str.replace(site.base_url, "", regex=False), corpus["body"], strict=True)
    )
    js_pages = [p for p in manifest.pages if p.render != "static" and p.path in bodies]
    assert js_pages, "no JavaScript-rendered page reached the corpus"
    for page in js_pages:
        assert page.body.split("\n")[-1][:20] in bodies[page.path]

    everything = "\n".join(corpus["title"] + corpus["summary"] + corpus["body"])
    planted = [value for page in manifest.pages for _, value in page.planted_pii]
    assert planted
    assert [value for value in planted if value in everything] == []
    kept = [p for p in manifest.pages if p.lookalikes and p.path in bodies]
    assert kept
    for page in kept:
        for lookalike in page.lookalikes:
            assert lookalike in bodies[page.path], (page.path, lookalike)

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["pii_residue"] is True


def test_malformed_source_config_fails_the_run_and_keeps_the_stored_partition(
    site: DemoSite, tmp_path: Path, settings_for
):
    sources = write_sources(tmp_path / "sources.yaml", site.base_url, max_pages=5)
    settings = settings_for(crawl_sources=sources)
    assert materialize(settings, partition_key="2026-11-07").success
    stored = table(settings, "raw_pages")

    sources.write_text("sources:\n  - name: demo\n    max_pages: -3\n")
    result = materialize(settings, partition_key="2026-11-07", raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error
    assert "max_pages" in str(failure.to_string())
    pd.testing.assert_frame_equal(table(settings, "raw_pages"), stored)
