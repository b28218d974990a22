"""Session-wide test set-up: embedded stores in a temporary directory, never the repo's `.eswi/`;
the demo site, built once per session and served per module, that every crawl test hits; a real
Elasticsearch node (ESWI_TEST_ES_URL when set, else the integ-test distribution installed by
scripts/elasticsearch/install.sh, started on 127.0.0.1 on first use); and `settings_for`, which
gives a test the same Settings in every profile so one test proves both."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from elasticsearch import Elasticsearch

from eswi_assets.demo_site.generate import SiteManifest, build_site
from eswi_assets.demo_site.server import DemoSite, serve
from eswi_assets.settings import Profile, Settings
from eswi_assets_tests.es_node import ElasticsearchNode, running_node
from eswi_assets_tests.stores import drop_prefixed

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="eswi-tests-"))
os.environ.setdefault("ESWI_DATA_DIR", str(_SESSION_DIR / "data"))
os.environ.setdefault("DAGSTER_HOME", str(_SESSION_DIR / "dagster_home"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def no_stale_defs_state_storage() -> Iterator[None]:
    """A `DagsterInstance` closed out of order (a test's own, or an ephemeral one Dagster makes
    while resolving jobs) can leave its defs-state storage as the "current" one, and the next
    Definitions to resolve fails with "undefined DagsterInstance weakref"; each test starts
    without one, so tests do not depend on their order."""
    with set_defs_state_storage(None):
        yield


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> SiteManifest:
    return build_site(tmp_path_factory.mktemp("demo-site"))


@pytest.fixture(scope="module")
def site(manifest: SiteManifest) -> Iterator[DemoSite]:
    with serve(manifest.root) as running:
        yield running


@pytest.fixture(scope="session")
def es_node() -> Iterator[ElasticsearchNode | None]:
    """The node this session started, or None when the tests use an existing one."""
    if os.environ.get("ESWI_TEST_ES_URL"):
        yield None
        return
    with running_node() as node:
        yield node


@pytest.fixture(scope="session")
def es_url(es_node: ElasticsearchNode | None) -> str:
    return es_node.url if es_node else os.environ["ESWI_TEST_ES_URL"]


@pytest.fixture(params=list(Profile), ids=lambda p: p.value)
def settings_for(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Settings]]:
    """Builds Settings for the test's profile: local (DuckDB under tmp_path) or production
    (the session's Elasticsearch with an index prefix of this test's own, removed afterwards)."""
    prefix = f"test-{uuid.uuid4().hex[:10]}-"
    es_url = request.getfixturevalue("es_url") if request.param is Profile.PRODUCTION else None

    def make(**fields) -> Settings:
        if es_url is None:
            return Settings(data_dir=tmp_path / "data", **fields)
        return Settings(
            profile=Profile.PRODUCTION,
            data_dir=tmp_path / "data",
            elasticsearch_url=es_url,
            es_index_prefix=prefix,
            **fields,
        )

    yield make
    if es_url is not None:
        with Elasticsearch(es_url, request_timeout=60) as es:
            drop_prefixed(es, prefix)
