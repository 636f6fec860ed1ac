"""/api/v1/aurora/*: the spec v2 §5.2 shapes, field for field, on the offline implementation."""

from __future__ import annotations

from typing import Any

PROMPT = "an upbeat 80s synthwave track at 118 BPM in A minor with pulsing bass"
META = {"module", "implementation", "processing_time_ms"}


def test_parse_answers_the_spec_shape(api: Any) -> None:
    response = api.client.post("/api/v1/aurora/parse", json={"prompt": PROMPT}, headers=api.alice)
    assert response.status_code == 200
    body = response.json()
    parsed = body["parsed_parameters"]
    for key in (
        "genre",
        "sub_genre",
        "tempo",
        "mood",
        "instrumentation",
        "structure",
        "key_signature",
        "time_signature",
        "energy_level",
        "reference_artists",
    ):
        assert key in parsed, key
    assert parsed["tempo"]["bpm"] == 118 and parsed["tempo"]["type"] == "explicit"
    assert parsed["key_signature"]["value"] == "A minor"
    enc = body["control_encoder_params"]
    assert len(enc["genre_embedding"]) == 128 and len(enc["mood_embedding"]) == 128
    assert len(enc["instrumentation_embedding"]) == 256 and len(enc["structure_embedding"]) == 64
    assert 0 <= enc["tempo_normalized"] <= 1 and 0 <= enc["energy_level"] <= 1
    assert (
        set(body["aurora_metadata"]) >= META
        and body["aurora_metadata"]["module"] == "semantic_parser"
    )
    assert body["aurora_metadata"]["implementation"] == "rule_based"
    assert body["musical_parameters"]["tempo_bpm"] == 118


def test_parse_stores_a_session_with_its_embedding(api: Any) -> None:
    body = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": PROMPT}, headers=api.alice
    ).json()
    session = api.store.sessions.get(body["session_id"], api.alice_id)
    assert session is not None and session.original_prompt == PROMPT
    assert session.control_embedding is not None and len(session.control_embedding.unified) == 640


def test_plan_answers_the_spec_shape_and_fits_the_request(api: Any) -> None:
    response = api.client.post(
        "/api/v1/aurora/plan",
        json={
            "parameters": {
                "genre": "bossa nova",
                "mood": "relaxed",
                "tempo_bpm": 130,
                "duration_seconds": 90,
            }
        },
        headers=api.alice,
    )
    assert response.status_code == 200, response.text
    plan = response.json()["structural_plan"]
    assert {"structure_type", "sections", "transitions", "chord_progression"} <= set(plan)
    assert abs(sum(s["duration_ratio"] for s in plan["sections"]) - 1) < 1e-3
    assert all(
        {"name", "duration_ratio", "energy_level", "description"} <= set(s)
        for s in plan["sections"]
    )
    assert all({"from", "to", "type"} <= set(t) for t in plan["transitions"])
    assert plan["chord_progression"]["chords"]
    assert response.json()["aurora_metadata"]["module"] == "structural_planner"


def test_plan_rejects_unknown_genres_naming_the_field(api: Any) -> None:
    response = api.client.post(
        "/api/v1/aurora/plan",
        json={
            "parameters": {"genre": "zzzz", "mood": "calm", "tempo_bpm": 90, "duration_seconds": 30}
        },
        headers=api.alice,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "parameters.genre"


def test_enhance_answers_the_spec_shape(api: Any) -> None:
    response = api.client.post(
        "/api/v1/aurora/enhance",
        json={"prompt": "a chill song for studying", "enhancement_level": "aggressive"},
        headers=api.alice,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["original_prompt"] == "a chill song for studying"
    assert body["enhanced_prompt"] and body["enhanced_prompt"] != body["original_prompt"]
    assert body["additions"]
    assert all({"type", "value", "reasoning", "confidence"} <= set(a) for a in body["additions"])
    meta = body["aurora_metadata"]
    assert meta["module"] == "prompt_enhancer" and "cache_hit" in meta
    stored = api.store.suggestions.list_for_session(body["session_id"], api.alice_id)
    assert len(stored) == len(body["additions"])


def test_enhance_levels_differ(api: Any) -> None:
    def additions(level: str) -> int:
        body = api.client.post(
            "/api/v1/aurora/enhance",
            json={"prompt": "a chill song for studying", "enhancement_level": level},
            headers=api.alice,
        ).json()
        return len(body["additions"])

    assert additions("minimal") < additions("aggressive")


def test_suggest_answers_the_spec_shape(api: Any) -> None:
    response = api.client.post(
        "/api/v1/aurora/suggest",
        json={"partial_prompt": "a dreamy synthw", "cursor_position": 15, "suggestion_count": 3},
        headers=api.alice,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert 1 <= len(body["suggestions"]) <= 3
    for s in body["suggestions"]:
        assert s["type"] in ("completion", "addition", "replacement")
        assert 0 <= s["insert_position"] <= 15 and 0 <= s["confidence"] <= 1
    assert set(body["inferred_context"]) == {"likely_genre", "likely_mood"}


def test_history_bounds_follow_the_spec(api: Any) -> None:
    for query in ("limit=0", "limit=101", "offset=-1", "sort=sideways", "limit=abc"):
        response = api.client.get(f"/api/v1/aurora/history?{query}", headers=api.alice)
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    body = api.client.get("/api/v1/aurora/history?limit=100&sort=oldest", headers=api.alice).json()
    assert {"total_count", "items"} == set(body)


def test_refinements_are_recorded_on_the_callers_session_only(api: Any) -> None:
    session_id = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": PROMPT}, headers=api.alice
    ).json()["session_id"]
    change = {
        "session_id": session_id,
        "field": "tempo",
        "old_value": "118",
        "new_value": "124",
        "source": "edited",
    }
    ok = api.client.post("/api/v1/aurora/refinements", json=change, headers=api.alice)
    assert ok.status_code == 200
    stored = api.store.refinements.list_for_session(session_id, api.alice_id)
    assert [(r.field, r.new_value, r.source) for r in stored] == [("tempo", "124", "edited")]
    other = api.client.post("/api/v1/aurora/refinements", json=change, headers=api.bob)
    assert other.status_code == 404


def test_feedback_is_throttled_to_one_per_five_seconds(api: Any) -> None:
    session_id = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": PROMPT}, headers=api.bob
    ).json()["session_id"]
    body = {
        "session_id": session_id,
        "feedback_type": "positive",
        "feedback_details": {"prompt_quality": 5},
    }
    first = api.client.post("/api/v1/aurora/feedback", json=body, headers=api.bob)
    assert first.status_code == 200 and first.json() == {
        "success": True,
        "message": "Feedback submitted successfully",
    }
    second = api.client.post("/api/v1/aurora/feedback", json=body, headers=api.bob)
    assert second.status_code == 429 and 1 <= int(second.headers["Retry-After"]) <= 5
    bad = api.client.post(
        "/api/v1/aurora/feedback",
        json={
            "session_id": session_id,
            "feedback_type": "positive",
            "feedback_details": {"audio_quality": 6},
        },
        headers=api.bob,
    )
    assert (
        bad.status_code == 422 and bad.json()["error"]["field"] == "feedback_details.audio_quality"
    )


def test_batch_embeddings_answer_each_value(api: Any) -> None:
    response = api.client.post(
        "/api/v1/embeddings/batch",
        json={
            "requests": [
                {"type": "genre", "value": "synthwave"},
                {"type": "mood", "value": "happy"},
                {"type": "instrumentation", "value": "piano"},
                {"type": "genre", "value": "not-a-genre-at-all"},
                {"type": "colour", "value": "red"},
            ]
        },
        headers=api.alice,
    )
    assert response.status_code == 200, response.text
    results = response.json()
    assert [len(r["embedding"]) for r in results[:3]] == [128, 128, 256]
    assert results[3]["error"] and results[3]["embedding"] is None
    assert results[4]["error"]


def _plan_lineup(
    genre: str, mood: str, tempo_bpm: float, instruments: list[str]
) -> list[tuple[str, str]]:
    """(instrument, role) of the parameters the plan endpoint makes from these fields."""
    from soundstar.api.schemas import PlanParameters
    from soundstar.api.service import parameters_from_fields

    fields = PlanParameters(
        genre=genre,
        mood=mood,
        tempo_bpm=tempo_bpm,
        duration_seconds=20,
        instrumentation=instruments,
    )
    return [(i.name, i.role.value) for i in parameters_from_fields(fields).instrumentation]


def test_plan_fields_naming_an_ensemble_get_its_members() -> None:
    lineup = _plan_lineup("classical", "sad", 70, ["string quartet"])
    assert lineup == [
        ("violin", "lead"),
        ("violin", "lead"),
        ("viola", "chords"),
        ("cello", "bass"),
    ]


def test_plan_fields_naming_an_instrument_twice_get_two_players() -> None:
    lineup = [
        name for name, _ in _plan_lineup("classical", "calm", 80, ["violin", "violin", "cello"])
    ]
    assert lineup.count("violin") == 2 and "cello" in lineup


def test_plan_fields_naming_generic_instruments_get_the_genres_kinds() -> None:
    """ "bass" and "drums" in a jazz plan are the double bass and the jazz kit; a specific
    name keeps its kind."""

    def lineup(instruments: list[str]) -> list[str]:
        return [name for name, _ in _plan_lineup("jazz", "calm", 120, instruments)]

    assert lineup(["piano", "bass", "drums"])[:3] == ["piano", "double_bass", "jazz_kit"]
    assert lineup(["piano", "electric bass"])[:2] == ["piano", "electric_bass"]


def test_refinements_take_spec_v1_fields(api: Any) -> None:
    session_id = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": "a mellow jazz trio"}, headers=api.alice
    ).json()["session_id"]
    for origin, implied in [("slider", "edited"), ("suggestion_accepted", "accepted")]:
        response = api.client.post(
            "/api/v1/aurora/refinements",
            json={
                "session_id": session_id,
                "parameter_name": "tempo_bpm",
                "original_value": "90",
                "refined_value": "96",
                "refinement_source": origin,
            },
            headers=api.alice,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["field"], body["source"], body["refinement_source"]) == (
            "tempo_bpm",
            implied,
            origin,
        )
    stored = api.store.refinements.list_for_session(session_id, api.alice_id)
    assert [(r.new_value, r.refinement_source) for r in stored[-2:]] == [
        ("96", "slider"),
        ("96", "suggestion_accepted"),
    ]
    missing = api.client.post(
        "/api/v1/aurora/refinements",
        json={"session_id": session_id, "refinement_source": "preset"},
        headers=api.alice,
    )
    assert missing.status_code == 422


def test_history_lists_enhance_only_sessions(api: Any) -> None:
    enhanced = api.client.post(
        "/api/v1/aurora/enhance", json={"prompt": "a sunny ukulele tune"}, headers=api.bob
    ).json()
    history = api.client.get("/api/v1/codex/history", headers=api.bob).json()
    entry = next(i for i in history["items"] if i["id"] == enhanced["session_id"])
    assert entry["kind"] == "enhancement" and entry["audio_url"] is None
    assert entry["enhanced_prompt"] == enhanced["enhanced_prompt"]
