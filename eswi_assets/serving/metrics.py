"""Prometheus metrics of the generate path, in a registry of the app's own.

A registry per app (not the process-wide default) lets tests and the benchmark run several apps
in one process without "duplicated timeseries" errors; `/metrics` exposes this registry together
with the HTTP metrics of prometheus-fastapi-instrumentator.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.queue_depth = Gauge(
            "eswi_generate_queue_depth",
            "Generate requests waiting to join a running batch.",
            registry=registry,
        )
        self.batch_size = Histogram(
            "eswi_generate_batch_size",
            "Requests admitted together into a running batch (one prefill).",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "eswi_generate_batch_seconds",
            "Time of one decoding step: a token for every running request.",
            registry=registry,
        )
        self.generated_tokens = Counter(
            "eswi_generated_tokens", "Tokens generated.", ["variant"], registry=registry
        )
        self.tokens_per_second = Gauge(
            "eswi_generate_tokens_per_second",
            "Generated tokens per second of the latest decoding step.",
            ["variant"],
            registry=registry,
        )
        self.generations = Counter(
            "eswi_generations", "Completed generations.", ["variant", "channel"], registry=registry
        )
        self.rejected = Counter(
            "eswi_generate_rejected", "Generate requests refused.", ["reason"], registry=registry
        )
        self.ratings = Counter(
            "eswi_ratings", "Ratings received.", ["variant", "rating", "channel"], registry=registry
        )
        self.comparisons = Counter(
            "eswi_comparisons", "Comparisons served.", ["channel"], registry=registry
        )
        self.choices = Counter(
            "eswi_comparison_choices",
            "Choices between the two answers of a comparison.",
            ["choice", "channel"],
            registry=registry,
        )
        self.model_info = Gauge(
            "eswi_model_info",
            "1 for each model version being served.",
            ["variant", "model_version"],
            registry=registry,
        )

    def observe_batch(self, variant: str, size: int, tokens: int, seconds: float) -> None:
        if size:  # steps that admitted nobody only advance the running batch
            self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        self.generated_tokens.labels(variant=variant).inc(tokens)
        if seconds > 0:
            self.tokens_per_second.labels(variant=variant).set(tokens / seconds)

    def serving(self, versions: dict[str, str]) -> None:
        """Which version each variant serves now (older label sets are removed)."""
        self.model_info.clear()
        for variant, model_version in versions.items():
            self.model_info.labels(variant=variant, model_version=model_version).set(1)
