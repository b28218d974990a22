"""Session-wide test set-up: embedded stores in a temporary directory, never the repo's `.eswi/`;
the demo site, built once per session and served per module, that every crawl test hits."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from eswi_assets.demo_site.generate import SiteManifest, build_site
from eswi_assets.demo_site.server import DemoSite, serve

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="eswi-tests-"))
os.environ.setdefault("ESWI_DATA_DIR", str(_SESSION_DIR / "data"))
os.environ.setdefault("DAGSTER_HOME", str(_SESSION_DIR / "dagster_home"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> SiteManifest:
    return build_site(tmp_path_factory.mktemp("demo-site"))


@pytest.fixture(scope="module")
def site(manifest: SiteManifest) -> Iterator[DemoSite]:
    with serve(manifest.root) as running:
        yield running
