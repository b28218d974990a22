"""A new `raw_pages` partition brings its `cleaned_corpus` partition, through the real
Definitions' automation sensor, evaluated against a real DagsterInstance."""

from __future__ import annotations

import dagster as dg

from eswi_assets.definitions import build_definitions
from eswi_assets.partitions import crawl_date_partitions
from eswi_assets.settings import Settings

SENSOR = "corpus_automation_sensor"


def evaluate(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    sensor = defs.resolve_sensor_def(SENSOR)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return sensor.evaluate_tick(context)


def requested(data) -> list[tuple[list[str], str | None]]:
    return [
        (sorted(k.to_user_string() for k in r.asset_selection), r.partition_key)
        for r in data.run_requests
    ]


def test_new_raw_pages_partition_requests_cleaned_corpus_for_that_partition_only(tmp_path):
    settings = Settings(data_dir=tmp_path)
    defs = build_definitions(settings)
    today = crawl_date_partitions(settings).get_last_partition_key()
    with dg.instance_for_test() as instance:
        first = evaluate(defs, instance, None)
        assert first.run_requests == []  # nothing crawled yet: nothing to clean

        instance.report_runless_asset_event(dg.AssetMaterialization("raw_pages", partition=today))
        fired = evaluate(defs, instance, first.cursor)
        assert requested(fired) == [(["cleaned_corpus"], today)]

        again = evaluate(defs, instance, fired.cursor)
        assert again.run_requests == []  # requested once, not on every tick


def test_crawl_run_that_also_cleaned_the_partition_requests_nothing_more(tmp_path):
    settings = Settings(data_dir=tmp_path)
    defs = build_definitions(settings)
    today = crawl_date_partitions(settings).get_last_partition_key()
    with dg.instance_for_test() as instance:
        first = evaluate(defs, instance, None)
        for key in ("raw_pages", "cleaned_corpus"):
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=today))
        after = evaluate(defs, instance, first.cursor)
        assert after.run_requests == []


def test_models_are_not_automated_by_it(tmp_path):
    defs = build_definitions(Settings(data_dir=tmp_path))
    sensor = defs.resolve_sensor_def(SENSOR)
    graph = defs.resolve_asset_graph()
    targeted = sensor.asset_selection.resolve(graph)
    assert targeted == {dg.AssetKey("cleaned_corpus")}
