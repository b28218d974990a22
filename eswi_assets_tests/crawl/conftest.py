"""The demo site, built once per session and served per module, is what every crawl test hits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eswi_assets.demo_site.generate import SiteManifest, build_site
from eswi_assets.demo_site.server import DemoSite, serve


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> SiteManifest:
    return build_site(tmp_path_factory.mktemp("crawl-demo-site"))


@pytest.fixture(scope="module")
def site(manifest: SiteManifest) -> Iterator[DemoSite]:
    with serve(manifest.root) as running:
        yield running
