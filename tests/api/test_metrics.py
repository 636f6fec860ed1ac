"""/metrics: Prometheus text with latency per endpoint and stage, cache hit, fallback and error rates."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def test_metrics_report_latency_rates_and_need_a_key(api: Any) -> None:
    api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "a calm ambient piece"}, headers=api.alice
    )
    api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "a calm ambient piece"}, headers=api.alice
    )
    response = api.client.get("/metrics", headers=api.alice)
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    http = families["soundstar_http_request_duration_seconds"]
    endpoints = {s.labels.get("endpoint") for s in http.samples}
    assert "/api/v1/aurora/parse" in endpoints
    stages = {s.labels.get("stage") for s in families["soundstar_stage_duration_seconds"].samples}
    assert {"parse", "plan"} <= stages
    for name in ("soundstar_cache_hit_rate", "soundstar_fallback_rate", "soundstar_error_rate"):
        value = families[name].samples[0].value
        assert 0.0 <= value <= 1.0, name
    assert families["soundstar_cache_hits"].samples[0].value >= 1, "the second parse is a cache hit"
