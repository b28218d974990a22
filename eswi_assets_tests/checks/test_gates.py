"""Blocking checks hold across runs: a crawl date whose latest blocking check failed (or never
ran on its latest data) is left out of the next training run and of what training_sensor counts.
On a real DagsterInstance, with per-date check results as the corpus assets record them."""

# No `from __future__ import annotations`: Dagster reads the context annotations at runtime.

import json
from collections.abc import Iterator

import dagster as dg
import pandas as pd
import pytest
from dagster_duckdb_pandas import DuckDBPandasIOManager

from eswi_assets.checks.gates import gated_frame
from eswi_assets.sensors.training import build_training_sensor
from eswi_assets.settings import Settings

DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-01")
DATES = ["2026-11-01", "2026-11-02", "2026-11-03"]
DOCS = 30
BAD_TAG = "test/pii_on"
RESOURCES: dict = {}  # the date whose pii_residue check fails in this run


@dg.multi_asset(
    outs={"cleaned_corpus": dg.AssetOut(metadata={"partition_expr": "partition_date"})},
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    check_specs=[
        dg.AssetCheckSpec(
            "pii_residue", asset="cleaned_corpus", blocking=True, partitions_def=DAYS
        ),
        dg.AssetCheckSpec("skew", asset="cleaned_corpus", partitions_def=DAYS),
    ],
)
def cleaned_corpus(context: dg.AssetExecutionContext):
    """Like the real asset: a range as one output, per-date metadata and check results."""
    bad = context.run.tags.get(BAD_TAG)
    frames = []
    for key in context.partition_keys:
        frames.append(
            pd.DataFrame(
                {"partition_date": pd.Timestamp(key), "doc_id": [f"{key}-{i}" for i in range(DOCS)]}
            )
        )
        keys = [f"{key}-{i}" for i in range(DOCS)]
        context.add_asset_metadata(
            {"dagster/row_count": DOCS, "content_keys": keys}, partition_key=key
        )
    yield dg.Output(pd.concat(frames, ignore_index=True), output_name="cleaned_corpus")
    for key in context.partition_keys:
        for name, passed in (("pii_residue", key != bad), ("skew", False)):
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey("cleaned_corpus"),
                check_name=name,
                passed=passed,
                partition=key,
                blocking=name == "pii_residue",
            )


@dg.asset(ins={"cleaned_corpus": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
def sft_model(
    context: dg.AssetExecutionContext, cleaned_corpus: pd.DataFrame
) -> dg.MaterializeResult:
    """Stands in for the model assets: trains on what the gate lets through."""
    used, gate = gated_frame(context, "cleaned_corpus", ["pii_residue"], cleaned_corpus)
    dates = sorted(used["partition_date"].dt.strftime("%Y-%m-%d").unique())
    return dg.MaterializeResult(metadata={"dates": dates, **gate.metadata()})


@pytest.fixture
def instance(tmp_path) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(autouse=True)
def duckdb(tmp_path, monkeypatch) -> None:
    """A range is one output: DuckDB stores it by partition_date (the default IO manager cannot)."""
    monkeypatch.setitem(RESOURCES, "io_manager", DuckDBPandasIOManager(
        database=str(tmp_path / "corpus.duckdb"), schema="eswi"
    ))  # fmt: skip


def crawl(instance: dg.DagsterInstance, dates: list[str], bad: str | None = None) -> bool:
    tags = {
        "dagster/asset_partition_range_start": dates[0],
        "dagster/asset_partition_range_end": dates[-1],
    } | ({BAD_TAG: bad} if bad else {})
    result = dg.materialize(
        [cleaned_corpus, sft_model], selection=["cleaned_corpus"], instance=instance, tags=tags,
        resources=RESOURCES, raise_on_error=False,
    )  # fmt: skip
    return result.success


def train(instance: dg.DagsterInstance) -> tuple[list[str], dict]:
    defs = dg.Definitions(assets=[cleaned_corpus, sft_model], resources=RESOURCES)
    job = defs.resolve_implicit_global_asset_job_def()  # as a code location runs it
    result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey("sft_model")])
    [event] = result.asset_materializations_for_node("sft_model")
    return event.metadata["dates"].value, event.metadata["partitions_left_out"].value


def test_a_date_failing_its_blocking_check_is_left_out_of_the_next_training_run(instance):
    assert not crawl(instance, DATES, bad="2026-11-02")  # a failed blocking check fails the run
    dates, left_out = train(instance)
    assert dates == ["2026-11-01", "2026-11-03"]  # failing non-blocking checks do not gate
    assert left_out == {"2026-11-02": "pii_residue failed"}

    assert crawl(instance, ["2026-11-02"])  # fixed and crawled again: used again
    dates, left_out = train(instance)
    assert dates == DATES and left_out == {}


def test_a_date_materialized_without_its_checks_is_left_out(instance):
    assert crawl(instance, DATES)
    instance.report_runless_asset_event(
        dg.AssetMaterialization("cleaned_corpus", partition="2026-11-03")
    )
    dates, left_out = train(instance)
    assert dates == DATES[:2]
    assert left_out == {"2026-11-03": "pii_residue not evaluated on the latest materialization"}


def test_training_sensor_does_not_count_documents_of_a_failing_date(instance, tmp_path):
    settings = Settings(data_dir=tmp_path, retrain_min_new_documents=2 * DOCS + 1)
    sensor = build_training_sensor(settings)
    job = dg.define_asset_job("training_job", selection=["sft_model"])
    defs = dg.Definitions(assets=[cleaned_corpus, sft_model], jobs=[job], sensors=[sensor])
    crawl(instance, DATES, bad="2026-11-02")
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    data = sensor.evaluate_tick(context)
    assert data.run_requests == []
    assert json.loads(data.cursor)["new_documents"] == 2 * DOCS
    assert "2026-11-02': 'pii_residue failed" in data.skip_message
