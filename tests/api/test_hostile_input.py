"""Hostile and oversize input is refused with a 4xx in the spec's error format, on SQLite
and PostgreSQL alike, and changes nothing: NUL characters anywhere (ids, session ids,
prompts), bodies over the size limit, prompts over 5000 characters, loose JSON types."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

NUL_PATHS = (
    "/api/v1/generations/abc%00def",
    "/api/v1/generations/abc%00def/audio",
    "/api/v1/generations/abc%00def/stems/bass",
    "/api/v1/aurora/history?sort=new%00est",
)


def _jobs(api: Api) -> int:
    return sum(api.store.jobs.status_counts().values())


@pytest.mark.parametrize("path", NUL_PATHS)
def test_a_nul_in_the_url_is_a_400(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.alice)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/aurora/generate", {"prompt": "a calm piano piece", "session_id": "a\x00b"}),
        ("/api/v1/aurora/generate", {"prompt": "\x00" * 40}),
        ("/api/v1/aurora/parse", {"prompt": "a calm piano\x00 piece"}),
        ("/api/v1/aurora/feedback", {"generation_id": "x\x00", "feedback_type": "positive"}),
        (
            "/api/v1/aurora/refinements",
            {"session_id": "s\x00", "field": "tempo", "source": "accepted"},
        ),
        (
            "/api/v1/aurora/enhance",
            {"prompt": "a calm piano piece", "context": {"genre_hint": "\x00"}},
        ),
    ],
)
def test_a_nul_in_a_body_is_a_4xx_and_stores_nothing(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    before = _jobs(api)
    response = api.client.post(path, json=body, headers=api.alice)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error"}
    assert _jobs(api) == before


def test_a_body_over_the_limit_is_413_before_it_is_parsed(api: Api) -> None:
    limit = api.settings.api.max_body_bytes
    response = api.client.post(
        "/api/v1/aurora/parse",
        content=b'{"prompt": "' + b"a" * limit + b'"}',
        headers={**api.alice, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_body_over_the_limit_is_413(api: Api) -> None:
    limit = api.settings.api.max_body_bytes

    def chunks() -> Any:
        yield b'{"prompt": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    response = api.client.post(
        "/api/v1/aurora/parse",
        content=chunks(),
        headers={**api.alice, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("path", ["/api/v1/aurora/parse", "/api/v1/aurora/generate"])
def test_a_prompt_over_5000_characters_is_invalid_prompt(api: Api, path: str) -> None:
    before = _jobs(api)
    response = api.client.post(path, json={"prompt": "jazz " * 1001}, headers=api.alice)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PROMPT"
    assert _jobs(api) == before


@pytest.mark.parametrize("value", [False, True, "3", 2.5])
def test_cursor_position_must_be_an_integer(api: Api, value: object) -> None:
    response = api.client.post(
        "/api/v1/aurora/suggest",
        json={"partial_prompt": "a dreamy", "cursor_position": value},
        headers=api.alice,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor_position"


def test_a_whole_number_is_still_a_float(api: Api) -> None:
    response = api.client.post(
        "/api/v1/aurora/plan",
        json={
            "parameters": {
                "genre": "jazz",
                "mood": "relaxed",
                "tempo_bpm": 100,
                "duration_seconds": 30,
            }
        },
        headers=api.alice,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instrumentation": [{"name": "theremin-9000", "role": "lead"}]}, "instrumentation"),
        ({"chord_progression": ["Am", "Q#zz"]}, "chord_progression"),
    ],
)
def test_generate_refuses_unknown_instruments_and_chords_without_a_job(
    api: Api, change: dict[str, Any], field: str
) -> None:
    parsed = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "a calm jazz trio"}, headers=api.alice
    ).json()
    parameters = {**parsed["musical_parameters"], **change}
    before = _jobs(api)
    response = api.client.post(
        "/api/v1/aurora/generate",
        json={"prompt": "a calm jazz trio", "parameters": parameters},
        headers=api.alice,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["field"]
    assert _jobs(api) == before


def test_401_names_the_scheme(api: Api) -> None:
    response = api.client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_says_what_validation_refuses(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    prompt = components["ParseRequest"]["properties"]["prompt"]
    assert prompt["pattern"] == r"^[^\x00]*$" and prompt["minLength"] == 1
    assert {
        "required": ["session_id"],
        "properties": {"session_id": {"not": {"type": "null"}}},
    } in (components["FeedbackRequest"]["anyOf"])
    cursor = components["SuggestRequest"]["properties"]["cursor_position"]
    assert {"type": "integer", "maximum": 500, "minimum": 0} in cursor["anyOf"]
    path_id = schema["paths"]["/api/v1/generations/{generation_id}"]["get"]["parameters"][0]
    assert path_id["schema"]["pattern"] == r"^[^\x00]*$"


def test_an_empty_prompt_is_invalid_prompt(api: Api) -> None:
    response = api.client.post("/api/v1/aurora/parse", json={"prompt": ""}, headers=api.alice)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PROMPT"


def test_feedback_needs_a_generation_or_a_session(api: Api) -> None:
    response = api.client.post(
        "/api/v1/aurora/feedback", json={"feedback_type": "positive"}, headers=api.alice
    )
    assert response.status_code == 422
