"""Small stand-ins for the text assets: the real asset keys and table schemas, rows the test
chooses, so IO-manager tests run without crawling or cleaning anything.
"""

import hashlib
from collections.abc import Callable

import dagster as dg
import pandas as pd

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="Asia/Taipei")
PARTITION_EXPR = {"partition_expr": "partition_date"}
RANGE_TAGS = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def raw_pages_frame(day: str, paths: list[str]) -> pd.DataFrame:
    """One row per path; the second row (if any) is a failed fetch with nulls."""
    n = len(paths)
    failed = [i == 1 for i in range(n)]
    return pd.DataFrame(
        {
            "partition_date": pd.to_datetime([day] * n),
            "url": [f"http://127.0.0.1:8765/{path}" for path in paths],
            "source": ["demo"] * n,
            "fetched_at": pd.to_datetime([f"{day} 01:02:03.{i:06d}" for i in range(n)]),
            "outcome": ["failed" if bad else "ok" for bad in failed],
            "http_status": pd.array([None if bad else 200 for bad in failed], dtype="Int64"),
            "error": ["timeout" if bad else None for bad in failed],
            "attempts": [3 if bad else 1 for bad in failed],
            "depth": [i % 3 for i in range(n)],
            "rendered": [i % 2 == 0 for i in range(n)],
            "html": [
                "" if bad else f"<html><title>{path}</title>社區志工</html>"
                for bad, path in zip(failed, paths, strict=True)
            ],
            "title": [
                "" if bad else f"社區長照 {path}" for bad, path in zip(failed, paths, strict=True)
            ],
            "content_hash": [hashlib.sha256(path.encode()).hexdigest() for path in paths],
        }
    )


def corpus_frame(
    day: str, doc_ids: list[str], body: str = "志工陪伴長輩散步，社區因此更溫暖。"
) -> pd.DataFrame:
    n = len(doc_ids)
    return pd.DataFrame(
        {
            "partition_date": pd.to_datetime([day] * n),
            "doc_id": doc_ids,
            "url": [f"http://127.0.0.1:8765/{doc_id}" for doc_id in doc_ids],
            "source": ["demo"] * n,
            "title": [f"長照新聞 {doc_id}" for doc_id in doc_ids],
            "summary": ["社區長照的摘要"] * n,
            "body": [f"{body}[PHONE]" for _ in doc_ids],
            "language": ["zh-Hant"] * n,
            "length": [len(body) + 7] * n,
            "cjk_share": [0.875] * n,
            "minhash": ["00ff" * 8] * n,
            "pii_redactions": list(range(n)),
        }
    )


def labels_frame(sentence_ids: list[str]) -> pd.DataFrame:
    n = len(sentence_ids)
    return pd.DataFrame(
        {
            "sentence_id": sentence_ids,
            "text": [f"服務很好 {sid}" for sid in sentence_ids],
            "label": [["positive", "negative", "neutral"][i % 3] for i in range(n)],
            "source": ["seed" if i % 2 else "doccano" for i in range(n)],
            "annotators": ["seed" if i % 2 else "amy,bob" for i in range(n)],
            "n_annotations": [1 if i % 2 else 2 for i in range(n)],
            "doc_id": [None if i % 2 else f"d{i}" for i in range(n)],
            "labeled_at": pd.to_datetime([f"2026-11-0{1 + i % 9} 12:00:00" for i in range(n)]),
        }
    )


def partitioned(name: str, frames: dict[str, pd.DataFrame]) -> dg.AssetsDefinition:
    """A daily-partitioned asset that returns `frames[key]` for each partition it runs."""

    @dg.asset(
        name=name,
        partitions_def=PARTITIONS,
        metadata=PARTITION_EXPR,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _asset(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.concat([frames[key] for key in context.partition_keys], ignore_index=True)

    return _asset


def unpartitioned(name: str, frame: Callable[[], pd.DataFrame]) -> dg.AssetsDefinition:
    @dg.asset(name=name)
    def _asset() -> pd.DataFrame:
        return frame()

    return _asset


def reader(upstream: str, seen: dict[str, pd.DataFrame]) -> dg.AssetsDefinition:
    """An unpartitioned downstream that loads every partition of `upstream` into `seen`."""
    mapping = dg.AllPartitionMapping()
    ins = {upstream: dg.AssetIn(partition_mapping=mapping)}

    @dg.asset(name=f"read_{upstream}", ins=ins)
    def _asset(**inputs: pd.DataFrame) -> None:
        seen[upstream] = inputs[upstream]

    return _asset


def read_back(
    upstream: dg.AssetsDefinition, io_manager: dg.IOManager, *others: dg.AssetsDefinition
) -> pd.DataFrame:
    """Everything stored for `upstream`, as an unpartitioned reader would receive it
    (`others`: the assets upstream of `upstream`, so the graph resolves).
    """
    seen: dict[str, pd.DataFrame] = {}
    name = upstream.key.to_user_string()
    down = reader(name, seen)
    dg.materialize(
        [upstream, *others, down], selection=[down], resources={"io_manager": io_manager}
    )
    return seen[name]
