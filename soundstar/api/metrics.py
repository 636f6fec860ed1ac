"""Prometheus metrics (spec v1 §9.8): latency per endpoint and stage, cache hit, fallback and error rates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Rates(Collector):
    """Rates computed at scrape time from the counters and the Aurora cache's own statistics."""

    def __init__(
        self, metrics: Metrics, cache_stats: Callable[[], Mapping[str, int]] | None
    ) -> None:
        self._metrics = metrics
        self._cache_stats = cache_stats

    def collect(self) -> Iterable[GaugeMetricFamily]:
        m = self._metrics
        if self._cache_stats is not None:
            stats = self._cache_stats()
            hits, misses = int(stats.get("hits", 0)), int(stats.get("misses", 0))
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
    """One registry per app, so tests and several apps in one process never collide."""

    def __init__(self, cache_stats: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
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
        self.registry.register(_Rates(self, cache_stats))

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

    def observe_error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
