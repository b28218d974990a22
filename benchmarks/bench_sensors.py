"""Tick time of `feedback_sensor` against a SQLite feedback store of 10k and of 1M ratings, in
the same run, with the same number of new ratings after the cursor: a cursor sensor reads only
what is new, so its tick must not grow with the size of the store.

Two ticks are timed per store size: a busy one (`--new` ratings after the cursor, which requests
a run) and an idle one (cursor at the end: nothing new, the store-reset probe runs).

    uv run python benchmarks/bench_sensors.py [--sizes 10000 1000000] [--new 100] [--ticks 50]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from eswi_assets.sensors.feedback import build_feedback_sensor
from eswi_assets.settings import Settings
from eswi_assets.stores.sqlite_feedback import SqliteFeedbackStore

INSERT = """
INSERT INTO feedback_units (feedback_id, kind, generation_id, model_version, prompt, response,
                            user_hash, channel, served_at, rating, created_at)
VALUES (?, 'rating', ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
PROMPT = "標題：社區共餐據點開張\n摘要：里民活動中心每週三提供長輩午餐。"
RESPONSE = "里民活動中心的共餐據點今天開張，志工們準備了熱騰騰的飯菜，長輩們吃得很開心。"
BATCH = 50_000
WARMUP = 3  # ticks not timed (first connections, imports, caches)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def fill(path: Path, rows: int) -> SqliteFeedbackStore:
    """A store with `rows` rated answers, bulk-inserted straight into the store's own table."""
    store = SqliteFeedbackStore(path=str(path), salt="bench")
    store.stats()  # creates the file, the table and its indexes exactly as the store does
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with sqlite3.connect(path) as connection:
        for first in range(0, rows, BATCH):
            connection.executemany(
                INSERT,
                (
                    (
                        f"gen-{i:08d}",
                        f"gen-{i:08d}",
                        f"ppo_model/v{i % 3}",
                        PROMPT,
                        RESPONSE,
                        f"{i % 5000:064x}",
                        "line" if i % 2 else "api",
                        stamp(start + timedelta(seconds=i)),
                        1 + i % 5,
                        stamp(start + timedelta(seconds=i + 30)),
                    )
                    for i in range(first, min(first + BATCH, rows))
                ),
            )
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def tick(
    sensor: dg.SensorDefinition,
    instance: dg.DagsterInstance,
    store: SqliteFeedbackStore,
    cursor: int,
    expect_runs: int,
) -> float:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=json.dumps({"seq": cursor, "since_retrain": 0}),
        resources={"feedback_store": store},
    )
    began = time.perf_counter()
    data = sensor.evaluate_tick(context)
    elapsed = time.perf_counter() - began
    assert len(data.run_requests) == expect_runs, data.skip_message
    return elapsed


def ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return f"{statistics.median(values) * 1e3:8.2f} ms median, {q[-1] * 1e3:8.2f} ms p90"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--new", type=int, default=100, help="ratings after the cursor")
    parser.add_argument("--ticks", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the sensor logs each request it makes

    print(
        f"feedback_sensor tick time | python {platform.python_version()}, "
        f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs | {args.new} new ratings "
        f"after the cursor, {args.ticks} ticks each"
    )
    sensor = build_feedback_sensor(Settings(retrain_min_new_units=50))
    results = {size: ([], []) for size in args.sizes}  # size -> (busy, idle) timings
    stats_ms: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="eswi-bench-sensors-") as tmp:
        instance = dg.DagsterInstance.ephemeral()
        stores = {}
        for size in args.sizes:
            began = time.perf_counter()
            stores[size] = fill(Path(tmp) / f"feedback-{size}.sqlite", size)
            seconds = time.perf_counter() - began
            megabytes = Path(stores[size].path).stat().st_size / 2**20
            print(f"{size:>9,} ratings: {megabytes:6.1f} MiB, filled in {seconds:5.1f} s")
        # Interleaved, so a burst of load from elsewhere on the machine hits every size alike.
        for round_ in range(WARMUP + args.ticks):
            for size, store in stores.items():
                busy = tick(sensor, instance, store, size - args.new, 1)
                idle = tick(sensor, instance, store, size, 0)
                if round_ >= WARMUP:
                    results[size][0].append(busy)
                    results[size][1].append(idle)
        # What an idle tick would cost if it asked the store for stats() (a full scan)
        # instead of probing the row at the cursor: why the sensor probes.
        for size, store in stores.items():
            began = time.perf_counter()
            store.stats()
            stats_ms[size] = (time.perf_counter() - began) * 1e3
    for size, (busy, idle) in results.items():
        print(f"{size:>9,} ratings  busy tick ({args.new} new): {ms(busy)}")
        print(f"{size:>9,} ratings  idle tick (0 new):   {ms(idle)}")
        print(
            f"{size:>9,} ratings  FeedbackStore.stats() alone (not used per tick): "
            f"{stats_ms[size]:8.2f} ms"
        )

    small, large = min(results), max(results)
    for label, index in (("busy", 0), ("idle", 1)):
        ratio = statistics.median(results[large][index]) / statistics.median(results[small][index])
        print(
            f"{label} tick median, {large:,} / {small:,} ratings: {ratio:.2f}x "
            f"(store {large // small}x larger)"
        )


if __name__ == "__main__":
    main()
