"""A backfill over a range of crawl dates crawls and cleans every date but trains each model
once: the partitioned assets run the range as one run (single-run backfill policy), and the
unpartitioned models downstream of all partitions run once after them."""

from __future__ import annotations

import dagster as dg

from eswi_assets.jobs import FULL_PIPELINE
from eswi_assets.settings import Settings
from eswi_assets_tests.automation.standins import standin_definitions

DATES = ["2026-11-01", "2026-11-02", "2026-11-03"]
RANGE = {
    "dagster/asset_partition_range_start": DATES[0],
    "dagster/asset_partition_range_end": DATES[-1],
}


def materializations(instance: dg.DagsterInstance, key: str) -> list[dg.EventLogRecord]:
    return instance.fetch_materializations(dg.AssetKey(key), limit=100).records


def test_three_date_backfill_of_full_pipeline_trains_each_model_once(tmp_path):
    defs = standin_definitions(Settings(data_dir=tmp_path))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def(FULL_PIPELINE).execute_in_process(
            instance=instance, tags=RANGE
        )
        assert result.success
        for key in ("raw_pages", "cleaned_corpus"):
            partitions = sorted(r.partition_key for r in materializations(instance, key))
            assert partitions == DATES
        for key in ("labeled_sentiment", "sft_model", "reward_model", "ppo_model", "rating_table"):
            assert [r.partition_key for r in materializations(instance, key)] == [None], key
        assert len(instance.get_run_records()) == 1


def test_crawl_backfill_then_rerun_of_one_date_touches_only_the_dates_asked_for(tmp_path):
    defs = standin_definitions(Settings(data_dir=tmp_path))
    with dg.instance_for_test() as instance:
        job = defs.resolve_job_def("crawl_job")
        assert job.execute_in_process(instance=instance, tags=RANGE).success
        assert job.execute_in_process(instance=instance, partition_key=DATES[1]).success
        partitions = [r.partition_key for r in materializations(instance, "cleaned_corpus")]
        assert sorted(partitions) == sorted([*DATES, DATES[1]])
        assert materializations(instance, "sft_model") == []
