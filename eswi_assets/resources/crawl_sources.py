"""Where the crawl's source list lives, so operators can point a run at another file."""

from __future__ import annotations

import dagster as dg

from eswi_assets.crawl.config import CrawlConfig, load_crawl_config


class CrawlSourcesResource(dg.ConfigurableResource):
    """The YAML file of crawl sources (start URLs, domains, limits, rendering)."""

    path: str

    def load(self) -> CrawlConfig:
        return load_crawl_config(self.path)
