"""Every endpoint but /health needs a key; every error is {"error": {code, message}}, never a trace."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

Api = Any

OPEN = {"/health", "/", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def _routes(api: Api) -> list[tuple[str, str]]:
    found = []
    for path, operations in api.client.get("/openapi.json").json()["paths"].items():
        if path in OPEN:
            continue
        concrete = path.replace("{generation_id}", "abc").replace("{stem}", "bass")
        found.extend((method.upper(), concrete) for method in operations)
    return found


def test_every_endpoint_but_health_refuses_a_missing_key(api: Api) -> None:
    routes = _routes(api)
    assert len(routes) >= 20
    for method, path in routes:
        response = api.client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert api.client.get("/metrics").status_code == 401


def test_a_wrong_or_revoked_key_is_refused(api: Api) -> None:
    bad = api.client.post(
        "/api/v1/aurora/parse",
        json={"prompt": "calm piano music"},
        headers={"Authorization": "Bearer nope"},
    )
    assert bad.status_code == 401
    new = api.store.api_keys.create(api.alice_id, "short-lived")
    api.store.api_keys.revoke(new.key.id, api.alice_id)
    revoked = api.client.post(
        "/api/v1/aurora/parse",
        json={"prompt": "calm piano music"},
        headers={"Authorization": f"Bearer {new.token}"},
    )
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "UNAUTHORIZED"


def test_health_needs_no_key(api: Api) -> None:
    body = api.client.get("/health").json()
    assert body["status"] == "ok" and body["database"]["status"] == "ok"


def test_validation_errors_name_the_field(api: Api) -> None:
    response = api.client.post(
        "/api/v1/aurora/suggest",
        json={"partial_prompt": "jazz", "suggestion_count": 9},
        headers=api.alice,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["field"] == "suggestion_count"
    assert "suggestion_count" in error["message"]


def test_invalid_json_and_unknown_fields_are_422(api: Api) -> None:
    broken = api.client.post(
        "/api/v1/aurora/parse",
        content=b"{not json",
        headers={**api.alice, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "VALIDATION_ERROR"
    extra = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "calm piano music", "bogus": 1}, headers=api.alice
    )
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "bogus"


def test_prompt_errors_use_the_spec_codes(api: Api) -> None:
    short = api.client.post("/api/v1/aurora/parse", json={"prompt": "hi"}, headers=api.alice)
    assert short.status_code == 400 and short.json()["error"]["code"] == "INVALID_PROMPT"
    long = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "jazz " * 120}, headers=api.alice
    )
    assert long.status_code == 400 and long.json()["error"]["code"] == "INVALID_PROMPT"


def test_unknown_paths_and_methods_use_the_error_format(api: Api) -> None:
    missing = api.client.get("/api/v1/nothing-here", headers=api.alice)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = api.client.get("/api/v1/aurora/parse", headers=api.alice)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_an_internal_failure_is_a_500_without_a_trace(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    aurora = api.client.app.state.soundstar.aurora  # type: ignore[attr-defined]

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(aurora, "understand", explode)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    response = client.post(
        "/api/v1/aurora/parse", json={"prompt": "calm piano music"}, headers=api.alice
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.text and "Traceback" not in response.text


def _tight(settings: Any) -> None:
    settings.api.rate_limit_burst = 3
    settings.api.rate_limit_per_minute = 6


def test_rate_limit_answers_429_with_retry_after(api_factory: Any) -> None:
    limited = api_factory(_tight)
    statuses = []
    for _ in range(5):
        response = limited.client.post(
            "/api/v1/aurora/suggest", json={"partial_prompt": "lofi hip"}, headers=limited.alice
        )
        statuses.append(response.status_code)
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) >= 1
    other = limited.client.post(
        "/api/v1/aurora/suggest", json={"partial_prompt": "lofi hip"}, headers=limited.bob
    )
    assert other.status_code == 200, "limits are per key"
