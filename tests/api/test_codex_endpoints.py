"""/api/v1/codex/*: spec v1 §3.2's shapes, served by the same pipeline."""

from __future__ import annotations

from typing import Any

PROMPT = "a melancholic jazz ballad with brushed drums and upright bass at 70 BPM"


def test_translate_gives_encoder_params_readable_params_and_ddsp_hints(api: Any) -> None:
    body = api.client.post(
        "/api/v1/codex/translate", json={"prompt": PROMPT}, headers=api.alice
    ).json()
    enc = body["control_encoder_params"]
    assert {
        "genre_embedding",
        "tempo_normalized",
        "mood_embedding",
        "instrumentation_embedding",
        "structure_embedding",
        "energy_level",
        "valence",
        "danceability",
    } <= set(enc)
    readable = body["human_readable_params"]
    assert readable["tempo_bpm"] == 70 and "Jazz" in readable["genre"]
    assert {
        "genre",
        "tempo_bpm",
        "mood",
        "instrumentation",
        "structure",
        "key",
        "time_signature",
    } <= set(readable)
    hints = body["ddsp_hints"]
    low, high = hints["f0_range"]
    assert (
        20 < low < high < 5000
        and 0 <= hints["loudness_target"] <= 1
        and 0 <= hints["harmonic_mix"] <= 1
    )
    assert body["midi_params"] is None


def test_translate_target_formats(api: Any) -> None:
    midi = api.client.post(
        "/api/v1/codex/translate",
        json={"prompt": PROMPT, "target_format": "midi_params"},
        headers=api.alice,
    ).json()
    assert midi["midi_params"]["tempo_bpm"] == 70 and midi["midi_params"]["tracks"]
    full = api.client.post(
        "/api/v1/codex/translate",
        json={"prompt": PROMPT, "target_format": "full"},
        headers=api.alice,
    ).json()
    assert full["musical_parameters"] and full["structural_plan"]
    bad = api.client.post(
        "/api/v1/codex/translate",
        json={"prompt": PROMPT, "target_format": "mp4"},
        headers=api.alice,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "target_format"


def test_codex_enhance_gives_v1_suggestions_and_structured_parameters(api: Any) -> None:
    response = api.client.post(
        "/api/v1/codex/enhance", json={"prompt": "a sad song at 70 BPM"}, headers=api.alice
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for s in body["suggestions"]:
        assert {"type", "original_value", "suggested_value", "confidence", "reasoning"} <= set(s)
    structured = body["structured_parameters"]
    assert structured["tempo_bpm"] == 70
    assert {
        "genre",
        "sub_genre",
        "tempo_bpm",
        "mood",
        "energy_level",
        "instrumentation",
        "structure",
        "key_signature",
        "time_signature",
    } <= set(structured)
    assert {"model_version", "processing_time_ms", "tokens_used"} <= set(body["codex_metadata"])


def test_codex_suggest_and_history(api: Any) -> None:
    suggest = api.client.post(
        "/api/v1/codex/suggest", json={"partial_prompt": "bossa no"}, headers=api.alice
    )
    assert suggest.status_code == 200 and "suggestions" in suggest.json()
    history = api.client.get("/api/v1/codex/history?limit=5", headers=api.alice)
    assert history.status_code == 200 and set(history.json()) == {"total_count", "items"}
