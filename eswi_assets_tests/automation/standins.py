"""Cheap stand-ins for the pipeline's assets: the same keys, partitions, backfill policy and
lineage as the real ones, with bodies that only record a row count, so sensors, jobs and
backfills are tested on real Dagster runs without crawling or training anything."""

# No `from __future__ import annotations`: Dagster reads the context annotations at runtime.

import dagster as dg

from eswi_assets.jobs import build_jobs
from eswi_assets.partitions import crawl_date_partitions
from eswi_assets.settings import Settings

DOCS_PER_DAY = 10
# Run tag naming the content a stand-in cleaned_corpus run stores on every date (default: each
# date's own); the same value on two dates is a re-crawl of unchanged pages.
CONTENT_TAG = "standin/content"
ALL = dg.AllPartitionMapping()


def standin_assets(settings: Settings, *, with_rating_table: bool = True) -> list:
    partitions = crawl_date_partitions(settings)
    corpus = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": "corpus",
    }

    @dg.asset(**corpus)
    def raw_pages(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"dagster/row_count": 2 * DOCS_PER_DAY * len(context.partition_keys)}
        )

    @dg.asset(deps=[raw_pages], **corpus)
    def cleaned_corpus(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        # Like the real asset: one output for the whole range, metadata per date.
        for key in context.partition_keys:
            content = context.run.tags.get(CONTENT_TAG, key)
            keys = [f"{content}-{i}" for i in range(DOCS_PER_DAY)]
            metadata = {"dagster/row_count": DOCS_PER_DAY, "content_keys": keys}
            context.add_asset_metadata(metadata, partition_key=key)
        return dg.MaterializeResult()

    @dg.asset(deps=[dg.AssetDep(cleaned_corpus, partition_mapping=ALL)], group_name="labeling")
    def labeled_sentiment() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/row_count": 600})

    user_feedback = dg.AssetSpec("user_feedback", group_name="models")

    @dg.asset(group_name="models")
    def base_model() -> None:
        pass

    @dg.asset(
        deps=[dg.AssetDep(cleaned_corpus, partition_mapping=ALL), base_model], group_name="models"
    )
    def sft_model() -> None:
        pass

    @dg.asset(deps=[labeled_sentiment, sft_model, user_feedback], group_name="models")
    def reward_model() -> None:
        pass

    @dg.asset(
        deps=[dg.AssetDep(cleaned_corpus, partition_mapping=ALL), sft_model, reward_model],
        group_name="models",
    )
    def ppo_model() -> None:
        pass

    @dg.asset(deps=[ppo_model, user_feedback], group_name="models")
    def rating_table() -> None:
        pass

    assets = [raw_pages, cleaned_corpus, labeled_sentiment, user_feedback]
    assets += [base_model, sft_model, reward_model, ppo_model]
    return assets + ([rating_table] if with_rating_table else [])


def standin_definitions(
    settings: Settings, *, with_rating_table: bool = True, sensors: list | None = None
) -> dg.Definitions:
    """The stand-in graph with the real jobs (and executors) built from `settings`."""
    return dg.Definitions(
        assets=standin_assets(settings, with_rating_table=with_rating_table),
        jobs=build_jobs(settings),
        sensors=sensors or [],
    )


def queue_run(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    job_name: str,
    *,
    status: dg.DagsterRunStatus = dg.DagsterRunStatus.QUEUED,
    asset_selection: set[dg.AssetKey] | None = None,
) -> dg.DagsterRun:
    """A run of `job_name` in `instance`, as the queue holds one (a queued run names the code
    location it came from, so it gets a registered origin)."""
    from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin

    location = RegisteredCodeLocationOrigin(location_name="eswi_assets")
    origin = RemoteRepositoryOrigin(location, "__repository__").get_job_origin(job_name)
    return instance.create_run_for_job(
        defs.resolve_job_def(job_name),
        status=status,
        asset_selection=asset_selection,
        remote_job_origin=origin,
    )
