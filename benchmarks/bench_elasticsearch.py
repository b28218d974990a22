"""Elasticsearch IO manager: writing docs/s next to `helpers.streaming_bulk` called directly at
several chunk sizes (the best one picked), in the same process on the same node, and the ratio;
then re-run and read-back docs/s.

The documents are `raw_pages` rows whose HTML is the demo site's article pages (what the
default crawl stores, a few KB each). Runs alternate (every configuration once per round, the
order rotating), each into a fresh index made from the same template beforehand, and each ends
with a refresh; the figure is the median over rounds. The direct baseline is handed its action
dicts ready-made, so the IO manager's figure also pays for what it adds: DataFrame -> documents,
deterministic ids, the mapping check, the refresh-interval switch and the check for stale rows
that makes a partition re-run exact.

Uses ESWI_TEST_ES_URL when set, else installs and starts the integ-test node (512 MB heap).
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_elasticsearch.py [--docs 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from eswi_assets.crawl.records import PageRecord, records_to_frame
from eswi_assets.demo_site.generate import build_site
from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets.stores.elasticsearch.frames import to_documents
from eswi_assets.stores.elasticsearch.index import IndexTemplate, ensure_index
from eswi_assets_tests.es_node import running_node

DAY = dt.date(2026, 11, 1)
PARTITIONS = dg.DailyPartitionsDefinition(start_date=DAY.isoformat(), timezone="Asia/Taipei")
CHUNK_SIZES = (250, 500, 1000, 2000)
ASSET = "raw_pages"


def raw_pages(n: int) -> pd.DataFrame:
    """`n` crawled rows, cycling through the demo site's article pages (distinct URLs)."""
    with tempfile.TemporaryDirectory() as site_dir:
        site = build_site(Path(site_dir) / "site")
        pages = [
            (page.path, page.title, (site.root / page.path.lstrip("/")).read_text("utf-8"))
            for page in site.pages
        ]
    fetched = dt.datetime.combine(DAY, dt.time(1))
    records = []
    for i in range(n):
        path, title, html = pages[i % len(pages)]
        records.append(
            PageRecord(
                url=f"http://127.0.0.1:8765{path}?copy={i}",
                source="demo",
                outcome="ok",
                depth=i % 3,
                fetched_at=fetched + dt.timedelta(microseconds=i),
                http_status=200,
                attempts=1,
                rendered=i % 2 == 0,
                html=html,
                title=title,
            )
        )
    return records_to_frame(records, DAY)


@contextlib.contextmanager
def elasticsearch_url() -> Iterator[str]:
    if url := os.environ.get("ESWI_TEST_ES_URL"):
        yield url
    else:
        with running_node() as node:
            yield node.url


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def output_context() -> dg.OutputContext:
    return dg.build_output_context(
        asset_key=ASSET,
        definition_metadata={"partition_expr": "partition_date"},
        partition_key=DAY.isoformat(),
        asset_partitions_def=PARTITIONS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    df = raw_pages(args.docs)
    n = len(df)
    template = IndexTemplate.load(ASSET)
    megabytes = df["html"].str.len().sum() / 1e6

    with elasticsearch_url() as url, Elasticsearch(url, request_timeout=120) as es:
        run = uuid.uuid4().hex[:8]
        prefixes: list[str] = []

        def fresh_index() -> tuple[str, str]:
            """A new prefix and the alias of its index, created as the IO manager would."""
            prefixes.append(f"bench-{run}-{len(prefixes)}-")
            return prefixes[-1], ensure_index(es, template, prefixes[-1])

        def direct(chunk_size: int) -> Callable[[], float]:
            """The baseline: documents already built, straight into streaming_bulk, a refresh."""

            def prepare() -> float:
                _, alias = fresh_index()
                documents = to_documents(df, template, ASSET)
                actions = [
                    {"_index": alias, "_id": doc.id, "_source": doc.source} for doc in documents
                ]

                def write() -> None:
                    for ok, item in streaming_bulk(
                        es, actions, chunk_size=chunk_size, max_retries=5
                    ):
                        assert ok, item
                    es.indices.refresh(index=alias)

                return timed(write)

            return prepare

        def managed() -> float:
            prefix, _ = fresh_index()
            cluster = ElasticsearchResource(url=url, index_prefix=prefix)
            manager = ElasticsearchIOManager(elasticsearch=cluster)
            context = output_context()
            return timed(lambda: manager.handle_output(context, df))

        configs: dict[str, Callable[[], float]] = {
            **{f"streaming_bulk, chunk_size={size}": direct(size) for size in CHUNK_SIZES},
            "ElasticsearchIOManager.handle_output": managed,
        }
        rates: dict[str, list[float]] = {name: [] for name in configs}
        try:
            direct(500)()  # warm-up: JIT, caches, the first segment merges
            managed()
            for round_ in range(args.rounds):
                names = list(configs)
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    rates[name].append(n / configs[name]())

            prefix, _ = fresh_index()
            manager = ElasticsearchIOManager(
                elasticsearch=ElasticsearchResource(url=url, index_prefix=prefix)
            )
            manager.handle_output(output_context(), df)
            rerun = n / timed(lambda: manager.handle_output(output_context(), df))
            read = n / timed(lambda: manager.read(ASSET))
        finally:
            for prefix in prefixes:
                for name in es.indices.get(index=f"{prefix}*", expand_wildcards="all"):
                    es.indices.delete(index=name)
                es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}{ASSET}")

    medians = {name: statistics.median(values) for name, values in rates.items()}
    managed_rates = rates.pop("ElasticsearchIOManager.handle_output")
    io_manager = medians.pop("ElasticsearchIOManager.handle_output")
    best = max(medians, key=medians.get)
    # Each round's IO manager run against the same round's best-chunk run: a shared machine's
    # load drifts between rounds more than within one.
    paired = statistics.median(
        mine / theirs for mine, theirs in zip(managed_rates, rates[best], strict=True)
    )
    print(
        f"Elasticsearch bulk writes, {n} raw_pages rows ({megabytes:.0f} MB of HTML), "
        f"median of {args.rounds} alternated rounds (each round's figures in brackets)"
    )
    for name, rate in medians.items():
        spread = ", ".join(f"{value:,.0f}" for value in rates[name])
        mark = "  <- best" if name == best else ""
        print(f"  helpers.{name:<24} {rate:>8,.0f} docs/s  ({spread}){mark}")
    spread = ", ".join(f"{value:,.0f}" for value in managed_rates)
    print(f"  ElasticsearchIOManager.handle_output     {io_manager:>8,.0f} docs/s  ({spread})")
    print(
        f"  ratio IO manager / best streaming_bulk: {io_manager / medians[best]:.2f}x of medians,"
    )
    print(f"    {paired:.2f}x median of per-round ratios")
    print(f"  IO manager re-run of the same partition: {rerun:,.0f} docs/s")
    print(f"  IO manager read-back (PIT + search_after -> DataFrame): {read:,.0f} docs/s")


if __name__ == "__main__":
    main()
