"""The data half: `raw_pages` (crawl) and `cleaned_corpus` (clean), partitioned by crawl date.

Both use a single-run backfill policy, so a date range is one run (and `dagster asset
materialize --partition-range` works); each date is still crawled and cleaned on its own, so a
range gives exactly the rows that date-by-date runs would, and each date gets its own metadata
(row counts, previews, `content_keys`) and its own check results, as a run of that date alone.

They are one-output `multi_asset`s because only there are check outputs optional: the per-date
results are `AssetCheckEvaluation`s with a partition, which a plain `@asset` would also require
a partition-less `AssetCheckResult` beside.
"""

from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd

from eswi_assets.assets.metadata import counts, preview
from eswi_assets.checks.corpus_checks import CheckThresholds, run_checks
from eswi_assets.checks.registry import check_specs
from eswi_assets.cleaning.dedup import content_key
from eswi_assets.cleaning.options import CleaningSettings
from eswi_assets.cleaning.pipeline import clean_pages
from eswi_assets.crawl.crawler import crawl, records_to_frame
from eswi_assets.crawl.fetchers import HttpFetcher
from eswi_assets.keys import CLEANED_CORPUS, RAW_PAGES
from eswi_assets.partitions import crawl_date_partitions, partition_day
from eswi_assets.resources.browser import ChromiumResource
from eswi_assets.resources.crawl_sources import CrawlSourcesResource
from eswi_assets.settings import Settings

OWNERS = ["team:data-engineering"]
PARTITION_EXPR = {"partition_expr": "partition_date"}


def storage_kind(settings: Settings) -> str:
    return "elasticsearch" if settings.is_production else "duckdb"


def cleaning_settings(settings: Settings) -> CleaningSettings:
    return CleaningSettings(
        min_body_chars=settings.min_body_chars,
        max_body_chars=settings.max_body_chars,
        min_cjk_share=settings.min_cjk_share,
        near_duplicate_threshold=settings.near_duplicate_threshold,
    )


def raw_pages_metadata(df: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    ok = df[df["outcome"] == "ok"]
    return {
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "ok_pages": dg.MetadataValue.int(len(ok)),
        "failed_pages": dg.MetadataValue.int(int((df["outcome"] == "failed").sum())),
        "outcomes": counts(df, "outcome"),
        "pages_per_source": counts(ok, "source"),
        "rendered_pages": dg.MetadataValue.int(int(ok["rendered"].sum())),
        "failures": preview(df[df["outcome"] != "ok"], ["url", "outcome", "http_status", "error"]),
        "preview": preview(ok, ["url", "source", "http_status", "title"]),
    }


def corpus_metadata(df: pd.DataFrame, dropped: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    return {
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        # What training_sensor counts: documents whose (doc id, body) it has not seen before.
        "content_keys": dg.MetadataValue.json(
            sorted(map(content_key, df["doc_id"], df["body"].fillna("")))
        ),
        "documents_per_source": counts(df, "source"),
        "dropped": counts(dropped, "stage"),
        "pii_redactions": dg.MetadataValue.int(int(df["pii_redactions"].sum())),
        "median_body_chars": dg.MetadataValue.float(float(df["length"].median()) if len(df) else 0),
        "dropped_preview": preview(dropped, ["url", "stage", "reason"]),
        "preview": preview(df, ["doc_id", "source", "title", "summary", "pii_redactions"]),
    }


RAW_PAGES_DESCRIPTION = (
    "One row per URL the crawl decided about: fetched (rendered HTML), failed or disallowed. "
    "Sources, limits and rendering come from the crawl config file; JavaScript pages go through "
    "headless Chromium, the rest through plain HTTP."
)
CLEANED_CORPUS_DESCRIPTION = (
    "Clean Traditional-Chinese documents (title, summary, body) with personal data replaced by "
    "typed placeholders, exact and near duplicates removed, low-quality pages dropped. Each "
    "crawl date is cleaned on its own, so a partition never depends on its neighbours."
)


def rows_of(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of one crawl date (none: an empty frame with the same columns)."""
    return df[df["partition_date"] == pd.Timestamp(partition_day(key))]


def record_per_partition(
    context: dg.AssetExecutionContext,
    asset: str,
    parts: Sequence[tuple[str, pd.DataFrame, dict[str, dg.MetadataValue]]],
) -> None:
    """Each date's metadata on its own materialization (before the output is yielded)."""
    for key, _, metadata in parts:
        context.add_asset_metadata(metadata, asset_key=asset, partition_key=key)


def checks_per_partition(
    context: dg.AssetExecutionContext,
    asset: str,
    parts: Sequence[tuple[str, pd.DataFrame, dict[str, dg.MetadataValue]]],
    thresholds: CheckThresholds,
) -> Iterator[dg.AssetCheckEvaluation]:
    """Each date's result of every selected check."""
    selected = context.selected_asset_check_keys
    for key, df, _ in parts:
        for evaluation in run_checks(asset, df, thresholds, partition=key):
            if dg.AssetCheckKey(dg.AssetKey(asset), evaluation.check_name) in selected:
                yield evaluation


def corpus_out(description: str, kinds: set[str]) -> dg.AssetOut:
    """The one output of a corpus multi_asset: group, owners and the partition column."""
    return dg.AssetOut(
        description=description,
        group_name="corpus",
        kinds=kinds,
        owners=OWNERS,
        metadata=PARTITION_EXPR,
    )


def build_corpus_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    partitions = crawl_date_partitions(settings)
    thresholds = CheckThresholds()
    store = storage_kind(settings)
    corpus = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "can_subset": True,
    }

    @dg.multi_asset(
        name=RAW_PAGES,
        outs={RAW_PAGES: corpus_out(RAW_PAGES_DESCRIPTION, {"selenium", store})},
        check_specs=check_specs(RAW_PAGES, partitions),
        **corpus,
    )
    def raw_pages(
        context: dg.AssetExecutionContext,
        chromium: ChromiumResource,
        crawl_sources: CrawlSourcesResource,
    ) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
        config = crawl_sources.load()
        frames = []
        with chromium.pool() as browser, HttpFetcher(config.user_agent) as http:
            for key in context.partition_keys:
                day = partition_day(key)
                context.log.info(f"crawling {len(config.sources)} sources for {key}")
                records = crawl(config, crawl_date=day, browser=browser, http=http, log=context.log)
                frames.append(records_to_frame(records, day))
        df = pd.concat(frames, ignore_index=True)
        days = [(key, rows_of(df, key)) for key in context.partition_keys]
        parts = [(key, rows, raw_pages_metadata(rows)) for key, rows in days]
        record_per_partition(context, RAW_PAGES, parts)
        yield dg.Output(df, output_name=RAW_PAGES)
        yield from checks_per_partition(context, RAW_PAGES, parts, thresholds)

    @dg.multi_asset(
        name=CLEANED_CORPUS,
        outs={CLEANED_CORPUS: corpus_out(CLEANED_CORPUS_DESCRIPTION, {"pandas", store})},
        ins={RAW_PAGES: dg.AssetIn()},
        check_specs=check_specs(CLEANED_CORPUS, partitions),
        **corpus,
    )
    def cleaned_corpus(
        context: dg.AssetExecutionContext, raw_pages: pd.DataFrame
    ) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
        options = cleaning_settings(settings)
        parts = []
        for key in context.partition_keys:
            result = clean_pages(rows_of(raw_pages, key), options)
            context.log.info(
                f"{key}: {len(rows_of(raw_pages, key))} pages -> {len(result.corpus)} docs"
            )
            parts.append((key, result.corpus, corpus_metadata(result.corpus, result.dropped)))
        df = pd.concat([part for _, part, _ in parts], ignore_index=True)
        record_per_partition(context, CLEANED_CORPUS, parts)
        yield dg.Output(df, output_name=CLEANED_CORPUS)
        yield from checks_per_partition(context, CLEANED_CORPUS, parts, thresholds)

    return [raw_pages, cleaned_corpus]
