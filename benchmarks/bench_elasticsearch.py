"""Elasticsearch IO manager: indexing docs/s next to `helpers.streaming_bulk` called directly
(with its best chunk size, found in the same run), and read-back docs/s.

Both write the same `cleaned_corpus`-shaped documents (Traditional-Chinese bodies of a few
hundred characters) into indices made from the same template, and both end with a refresh, so
the difference is what the IO manager adds: DataFrame conversion, deterministic ids, the index
and mapping check, and the stale-row scan that makes a partition re-run exact.

Uses ESWI_TEST_ES_URL when set, else installs and starts the integ-test node (512 MB heap).
    uv run python benchmarks/bench_elasticsearch.py [--docs 20000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator

import dagster as dg
import pandas as pd
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from eswi_assets.resources.elasticsearch import ElasticsearchResource
from eswi_assets.resources.elasticsearch_io import ElasticsearchIOManager
from eswi_assets.stores.elasticsearch.docs import search_all
from eswi_assets.stores.elasticsearch.frames import to_documents
from eswi_assets.stores.elasticsearch.index import IndexTemplate, ensure_index
from eswi_assets_tests.es_node import running_node

DAY = "2026-11-01"
PARTITIONS = dg.DailyPartitionsDefinition(start_date=DAY, timezone="Asia/Taipei")
SENTENCE = "社區志工每週陪伴獨居長輩散步聊天，[PHONE] 長照據點也提供共餐服務，讓大家更安心。"
CHUNK_SIZES = (250, 500, 1000, 2000)


def corpus(n: int) -> pd.DataFrame:
    doc_ids = [f"{i:08x}" for i in range(n)]
    body = SENTENCE * 8
    return pd.DataFrame(
        {
            "partition_date": pd.to_datetime([DAY] * n),
            "doc_id": doc_ids,
            "url": [f"https://news.example.tw/{doc_id}" for doc_id in doc_ids],
            "source": [f"source-{i % 5}" for i in range(n)],
            "title": [f"長照新聞第 {i} 則" for i in range(n)],
            "summary": [SENTENCE] * n,
            "body": [body] * n,
            "language": ["zh-Hant"] * n,
            "length": [len(body)] * n,
            "cjk_share": [0.9] * n,
            "minhash": ["0f" * 64] * n,
            "pii_redactions": [i % 3 for i in range(n)],
        }
    )


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


def direct_bulk(es: Elasticsearch, prefix: str, df: pd.DataFrame, chunk_size: int) -> float:
    """The baseline: documents already built, straight into streaming_bulk, then a refresh."""
    template = IndexTemplate.load("cleaned_corpus")
    alias = ensure_index(es, template, prefix)
    documents = to_documents(df, template, "cleaned_corpus")
    actions = [{"_index": alias, "_id": doc.id, "_source": doc.source} for doc in documents]

    def write() -> None:
        for ok, item in streaming_bulk(es, actions, chunk_size=chunk_size, max_retries=5):
            assert ok, item
        es.indices.refresh(index=alias)

    return timed(write)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    df = corpus(args.docs)
    n = len(df)

    with elasticsearch_url() as url, Elasticsearch(url, request_timeout=120) as es:
        run = uuid.uuid4().hex[:8]
        prefixes: list[str] = []

        def fresh_prefix() -> str:
            prefixes.append(f"bench-{run}-{len(prefixes)}-")
            return prefixes[-1]

        try:
            direct_bulk(es, fresh_prefix(), df, 500)  # warm-up: JIT, caches, segment merges
            direct = {
                size: statistics.median(
                    n / direct_bulk(es, fresh_prefix(), df, size) for _ in range(args.repeats)
                )
                for size in CHUNK_SIZES
            }
            best_size = max(direct, key=direct.get)

            def io_manager(chunk_size: int) -> ElasticsearchIOManager:
                """With its index already created, as the direct baseline's is."""
                prefix = fresh_prefix()
                ensure_index(es, IndexTemplate.load("cleaned_corpus"), prefix)
                cluster = ElasticsearchResource(url=url, index_prefix=prefix)
                return ElasticsearchIOManager(elasticsearch=cluster, chunk_size=chunk_size)

            def output_context() -> dg.OutputContext:
                return dg.build_output_context(
                    asset_key="cleaned_corpus",
                    definition_metadata={"partition_expr": "partition_date"},
                    partition_key=DAY,
                    asset_partitions_def=PARTITIONS,
                )

            managed = {}
            for size in sorted(
                {best_size, ElasticsearchIOManager.model_fields["chunk_size"].default}
            ):
                managed[size] = statistics.median(
                    n / timed(lambda s=size: io_manager(s).handle_output(output_context(), df))
                    for _ in range(args.repeats)
                )
            manager = io_manager(best_size)
            manager.handle_output(output_context(), df)
            rerun = n / timed(lambda: manager.handle_output(output_context(), df))

            input_context = dg.build_input_context(
                asset_key="cleaned_corpus",
                upstream_output=output_context(),
                partition_key=DAY,
                asset_partitions_def=PARTITIONS,
            )
            loaded: list[pd.DataFrame] = []
            read = statistics.median(
                n / timed(lambda: loaded.append(manager.load_input(input_context)))
                for _ in range(args.repeats)
            )
            alias = f"{manager.index_prefix}cleaned_corpus"
            scan = statistics.median(
                n
                / timed(
                    lambda: sum(
                        1 for _ in search_all(es, alias, {"match_all": {}}, [{"_shard_doc": "asc"}])
                    )
                )
                for _ in range(args.repeats)
            )
        finally:
            for prefix in prefixes:
                for name in es.indices.get(index=f"{prefix}*", expand_wildcards="all"):
                    es.indices.delete(index=name)
                es.options(ignore_status=404).indices.delete_index_template(
                    name=f"{prefix}cleaned_corpus"
                )

    assert len(loaded[-1]) == n
    print(f"Elasticsearch bulk indexing, {n} cleaned_corpus documents, median of {args.repeats}")
    for size, rate in direct.items():
        mark = "  <- best" if size == best_size else ""
        print(f"  helpers.streaming_bulk direct, chunk_size={size:>5}: {rate:>9,.0f} docs/s{mark}")
    for size, rate in managed.items():
        share = rate / direct[best_size]
        print(
            f"  ElasticsearchIOManager.handle_output, chunk_size={size:>5}: {rate:>9,.0f} docs/s"
            f" ({share:.0%} of best direct)"
        )
    print(f"  ElasticsearchIOManager re-run of the same partition: {rerun:>9,.0f} docs/s")
    print(
        f"  ElasticsearchIOManager.load_input (PIT + search_after -> DataFrame): {read:,.0f} docs/s"
    )
    print(f"  search_all alone (PIT + search_after, no DataFrame): {scan:,.0f} docs/s")


if __name__ == "__main__":
    main()
