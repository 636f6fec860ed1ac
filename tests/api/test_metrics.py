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


def _families(api: Any) -> dict[str, Any]:
    response = api.client.get("/metrics", headers=api.alice)
    assert response.status_code == 200
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def _value(families: dict[str, Any], name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in families[name].samples
        if s.name == name + "_total" and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_error_responses_are_counted_by_code(api: Any) -> None:
    before = _value(_families(api), "soundstar_errors", code="NOT_FOUND")
    assert api.client.get("/api/v1/generations/nope", headers=api.alice).status_code == 404
    assert _value(_families(api), "soundstar_errors", code="NOT_FOUND") == before + 1


def test_jobs_run_by_worker_processes_are_counted_with_their_stages(api: Any) -> None:
    before = _families(api)
    done = before.get("soundstar_generations")
    completed = _value(before, "soundstar_generations", status="completed") if done else 0.0
    job = api.client.post(
        "/api/v1/aurora/generate",
        json={
            "prompt": "a short bright synth pop loop",
            "options": {
                "duration_seconds": 5,
                "sample_rate": 22050,
                "stems": False,
                "wait_seconds": 60,
            },
        },
        headers=api.alice,
    ).json()
    assert job["status"] == "completed", job
    families = _families(api)
    assert _value(families, "soundstar_generations", status="completed") == completed + 1
    stages = {s.labels.get("stage") for s in families["soundstar_stage_duration_seconds"].samples}
    assert {"compose", "mix"} <= stages, stages
    totals = api.store.counters.totals()
    assert totals.get("aurora_cache_misses", 0) + totals.get("aurora_cache_hits", 0) >= 1
    assert families["soundstar_cache_misses"].samples[0].value >= totals["aurora_cache_misses"]
    again = _families(api)  # a second scrape counts nothing twice
    assert _value(again, "soundstar_generations", status="completed") == completed + 1
