"""Jobs operators launch by name: the daily crawl (crawl, clean) over the crawl-date partitions."""

import dagster as dg

crawl_job = dg.define_asset_job(
    "crawl_job",
    selection=dg.AssetSelection.assets("raw_pages", "cleaned_corpus"),
    description="Crawl the configured sources and clean the pages for one crawl date.",
)
