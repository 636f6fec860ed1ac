"""Prometheus metrics (spec v1 §9.8): latency per endpoint and stage, cache hit, fallback and error rates."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from soundstar.store.schemas import FinishedJob
from soundstar.store.types import utc_now

FinishedFeed = Callable[[datetime, str], list[FinishedJob]]

CACHE_HITS = "aurora_cache_hits"
CACHE_MISSES = "aurora_cache_misses"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Rates(Collector):
    """Rates computed at scrape time from the counters and the Aurora cache's own statistics."""

    def __init__(
        self,
        metrics: Metrics,
        cache_stats: Callable[[], Mapping[str, int]] | None,
        worker_totals: Callable[[], Mapping[str, float]] | None,
    ) -> None:
        self._metrics = metrics
        self._cache_stats = cache_stats
        self._worker_totals = worker_totals

    def _cache_counts(self) -> tuple[int, int] | None:
        """This process's Aurora cache counts plus every worker process's."""
        if self._cache_stats is None and self._worker_totals is None:
            return None
        stats = self._cache_stats() if self._cache_stats is not None else {}
        hits, misses = int(stats.get("hits", 0)), int(stats.get("misses", 0))
        if self._worker_totals is not None:
            try:
                totals = self._worker_totals()
            except Exception:  # a database hiccup: this scrape shows the server's own
                totals = {}
            hits += int(totals.get(CACHE_HITS, 0))
            misses += int(totals.get(CACHE_MISSES, 0))
        return hits, misses

    def collect(self) -> Iterable[GaugeMetricFamily]:
        m = self._metrics
        counts = self._cache_counts()
        if counts is not None:
            hits, misses = counts
            yield GaugeMetricFamily(
                "soundstar_cache_hits", "Aurora cache hits since start", value=hits
            )
            yield GaugeMetricFamily(
                "soundstar_cache_misses", "Aurora cache misses since start", value=misses
            )
            yield GaugeMetricFamily(
                "soundstar_cache_hit_rate",
                "Aurora cache hits / lookups",
                value=hits / max(1, hits + misses),
            )
        yield GaugeMetricFamily(
            "soundstar_fallback_rate",
            "share of Aurora module calls answered after a fallback",
            value=m.fallbacks / max(1, m.module_calls),
        )
        yield GaugeMetricFamily(
            "soundstar_error_rate",
            "share of API requests answered with a 5xx status",
            value=m.server_errors / max(1, m.requests),
        )


class Metrics:
    """One registry per app, so tests and several apps in one process never collide.

    What worker processes do reaches it through the database: finished jobs (status,
    stage timings) are followed with `follow`, and workers' cache counters are summed
    from `worker_totals`, so /metrics is complete whichever process ran the work.
    """

    def __init__(
        self,
        cache_stats: Callable[[], Mapping[str, int]] | None = None,
        worker_totals: Callable[[], Mapping[str, float]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._follow_lock = threading.Lock()
        self._seen: tuple[datetime, str] = (utc_now(), "")
        self.requests = 0
        self.server_errors = 0
        self.module_calls = 0
        self.fallbacks = 0
        self.http_latency = Histogram(
            "soundstar_http_request_duration_seconds",
            "HTTP request latency by endpoint",
            ["method", "endpoint", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_latency = Histogram(
            "soundstar_stage_duration_seconds",
            "pipeline stage latency (Aurora modules and engine stages)",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.aurora_calls = Counter(
            "soundstar_aurora_calls",
            "Aurora module answers by implementation",
            ["module", "implementation", "fallback"],
            registry=self.registry,
        )
        self.errors = Counter(
            "soundstar_errors", "error responses by code", ["code"], registry=self.registry
        )
        self.generations = Counter(
            "soundstar_generations",
            "generation jobs by final status",
            ["status"],
            registry=self.registry,
        )
        self.registry.register(_Rates(self, cache_stats, worker_totals))

    def observe_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests += 1
        if status >= 500:
            self.server_errors += 1
        self.http_latency.labels(method, endpoint, str(status)).observe(seconds)

    def observe_stages(self, timings_ms: Mapping[str, float]) -> None:
        for stage, ms in timings_ms.items():
            if stage != "total":
                self.stage_latency.labels(stage).observe(ms / 1000.0)

    def observe_module(self, module: str, implementation: str, fallback: bool) -> None:
        self.module_calls += 1
        if fallback:
            self.fallbacks += 1
        self.aurora_calls.labels(module, implementation, "yes" if fallback else "no").inc()

    def follow(self, feed: FinishedFeed) -> int:
        """Count the jobs that ended since the last call (by status, with their stage
        timings); returns how many. Each job is counted once per app."""
        with self._follow_lock:
            count = 0
            while True:
                batch = feed(*self._seen)
                for job in batch:
                    self.generations.labels(job.status).inc()
                    self.observe_stages(job.timings_ms)
                    self._seen = (job.completed_at, job.id)
                count += len(batch)
                if not batch:
                    return count

    def observe_error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
