"""Headless Chromium for the crawl, as a Dagster resource that never leaks a browser process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from eswi_assets.crawl.browser import BrowserPool


class ChromiumResource(dg.ConfigurableResource):
    """Paths to the Debian `chromium` and `chromedriver`, and how the driver pool behaves.

    Paths are explicit so Selenium Manager never tries to download a browser.
    """

    chromium_path: str = "/usr/bin/chromium"
    chromedriver_path: str = "/usr/bin/chromedriver"
    pool_size: int = Field(default=2, ge=1, description="Drivers, and so pages, at a time.")
    pages_per_driver: int = Field(default=50, ge=1, description="Recycle a driver after this.")
    page_load_timeout_s: float = Field(default=30.0, gt=0)

    @contextmanager
    def pool(self) -> Iterator[BrowserPool]:
        """A driver pool for one run; every driver is quit on the way out, even on errors."""
        browser = BrowserPool(
            size=self.pool_size,
            pages_per_driver=self.pages_per_driver,
            page_load_timeout_s=self.page_load_timeout_s,
            chromium_path=self.chromium_path,
            chromedriver_path=self.chromedriver_path,
        )
        try:
            yield browser
        finally:
            browser.close()
