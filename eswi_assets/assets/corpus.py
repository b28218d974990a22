"""The data half: `raw_pages` (crawl) and `cleaned_corpus` (clean), partitioned by crawl date.

Both use a single-run backfill policy, so a date range is one run (and `dagster asset
materialize --partition-range` works); each date is still crawled and cleaned on its own, so a
range gives exactly the rows that date-by-date runs would.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from eswi_assets.assets.metadata import counts, preview
from eswi_assets.checks.corpus_checks import (
    CLEANED_CORPUS,
    RAW_PAGES,
    CheckThresholds,
    check_specs,
    run_checks,
)
from eswi_assets.cleaning.pipeline import CleaningSettings, clean_pages
from eswi_assets.crawl.crawler import crawl, records_to_frame
from eswi_assets.crawl.fetchers import HttpFetcher
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
        "documents_per_source": counts(df, "source"),
        "dropped": counts(dropped, "stage"),
        "pii_redactions": dg.MetadataValue.int(int(df["pii_redactions"].sum())),
        "median_body_chars": dg.MetadataValue.float(float(df["length"].median()) if len(df) else 0),
        "dropped_preview": preview(dropped, ["url", "stage", "reason"]),
        "preview": preview(df, ["doc_id", "source", "title", "summary", "pii_redactions"]),
    }


def build_corpus_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    partitions = crawl_date_partitions(settings)
    thresholds = CheckThresholds()
    store = storage_kind(settings)

    @dg.asset(
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="corpus",
        kinds={"selenium", store},
        owners=OWNERS,
        metadata=PARTITION_EXPR,
        check_specs=check_specs(RAW_PAGES),
    )
    def raw_pages(
        context: dg.AssetExecutionContext,
        chromium: ChromiumResource,
        crawl_sources: CrawlSourcesResource,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """One row per URL the crawl decided about: fetched (rendered HTML), failed or disallowed.

        Sources, limits and rendering come from the crawl config file; JavaScript pages go
        through headless Chromium, the rest through plain HTTP.
        """
        config = crawl_sources.load()
        frames = []
        with chromium.pool() as browser, HttpFetcher(config.user_agent) as http:
            for key in context.partition_keys:
                day = partition_day(key)
                context.log.info(f"crawling {len(config.sources)} sources for {key}")
                records = crawl(config, crawl_date=day, browser=browser, http=http, log=context.log)
                frames.append(records_to_frame(records, day))
        df = pd.concat(frames, ignore_index=True)
        yield dg.Output(df, metadata=raw_pages_metadata(df))
        yield from run_checks(RAW_PAGES, df, thresholds)

    @dg.asset(
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="corpus",
        kinds={"pandas", store},
        owners=OWNERS,
        metadata=PARTITION_EXPR,
        check_specs=check_specs(CLEANED_CORPUS),
    )
    def cleaned_corpus(
        context: dg.AssetExecutionContext, raw_pages: pd.DataFrame
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Clean Traditional-Chinese documents (title, summary, body) with personal data replaced
        by typed placeholders, exact and near duplicates removed, low-quality pages dropped.

        Each crawl date is cleaned on its own, so a partition never depends on its neighbours.
        """
        options = cleaning_settings(settings)
        corpora, dropped = [], []
        for day, pages in raw_pages.groupby("partition_date", sort=True):
            result = clean_pages(pages, options)
            context.log.info(f"{day:%Y-%m-%d}: {len(pages)} pages -> {len(result.corpus)} docs")
            corpora.append(result.corpus)
            dropped.append(result.dropped)
        empty = clean_pages(raw_pages.iloc[0:0], options)
        df = pd.concat([empty.corpus, *corpora], ignore_index=True)
        dropped_df = pd.concat([empty.dropped, *dropped], ignore_index=True)
        yield dg.Output(df, metadata=corpus_metadata(df, dropped_df))
        yield from run_checks(CLEANED_CORPUS, df, thresholds)

    return [raw_pages, cleaned_corpus]
