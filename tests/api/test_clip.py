"""The service's clip and loop options: POST /api/v1/analyze hears an uploaded clip (only for
a signed-in caller, within its own size limit, refusing what is not audio), and generate
takes `like` (that analysis) and `loop` on both the aurora and the codex paths."""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import soundfile as sf

SR = 22050
PROMPT = "a synthwave groove with pulsing bass and bright pads"


def _clip(fmt: str = "FLAC", seconds: float = 8.0, bpm: float = 100.0) -> bytes:
    """Clicks on every beat over an A minor chord."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    audio = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.6, 329.6))
    for beat in np.arange(0, seconds, 60.0 / bpm):
        start = round(beat * SR)
        click = np.exp(-np.arange(800) / 80.0) * np.sin(2 * np.pi * 1000 * np.arange(800) / SR)
        audio[start : start + 800] += 0.6 * click[: n - start]
    buffer = io.BytesIO()
    sf.write(buffer, audio.astype(np.float32), SR, format=fmt)
    return buffer.getvalue()


def _wait(api: Any, generation_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = api.client.get(f"/api/v1/generations/{generation_id}", headers=api.alice).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"generation {generation_id} did not finish in {timeout_s} s")


def _analyze(api: Any, body: bytes, kind: str = "audio/flac", headers: Any = None) -> Any:
    return api.client.post(
        "/api/v1/analyze",
        content=body,
        headers={**(api.alice if headers is None else headers), "Content-Type": kind},
    )


def test_an_uploaded_clip_is_heard(api: Any) -> None:
    response = _analyze(api, _clip())
    assert response.status_code == 200, response.text
    heard = response.json()
    assert abs(heard["tempo_bpm"] - 100.0) < 2.0
    assert heard["format"] == "flac" and heard["duration_seconds"] == 8.0
    assert {"key", "time_signature", "integrated_lufs", "brightness_hz", "sections"} <= set(heard)
    assert not list(api.settings.data_dir.rglob("*.flac"))  # nothing kept


def test_only_audio_from_a_signed_in_caller_is_heard(api: Any) -> None:
    assert _analyze(api, _clip(), headers={}).status_code == 401
    for body, kind, needle in (
        (b"#!/bin/sh\necho pwned\n", "audio/wav", "not audio"),
        (_clip(), "text/plain", "send the clip itself"),
        (b"", "audio/wav", "empty"),
        (_clip("WAV", seconds=1.0), "audio/wav", "at least"),
    ):
        response = _analyze(api, body, kind)
        assert 400 <= response.status_code < 500, response.text
        error = response.json()["error"]
        assert needle in error["message"] and "Traceback" not in response.text


def test_a_clip_over_the_upload_limit_is_refused_before_it_is_read(api_factory: Any) -> None:
    small = api_factory(lambda s: setattr(s.api, "max_upload_bytes", 4096))
    response = _analyze(small, _clip("WAV"), "audio/wav")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_generate_like_a_clip_takes_what_the_prompt_leaves_open(api: Any) -> None:
    heard = _analyze(api, _clip()).json()
    response = api.client.post(
        "/api/v1/aurora/generate",
        json={"prompt": PROMPT, "like": heard,
              "options": {"duration_seconds": 6, "sample_rate": 22050, "wait_seconds": 60}},
        headers=api.alice,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = _wait(api, response.json()["generation_id"])
    assert body["status"] == "completed", body.get("error")
    text = str(body)
    assert f"tempo_bpm {heard['tempo_bpm']:g} taken" in text, text  # the prompt gave no tempo
    assert f"key {heard['key']} taken" in text


def test_a_loop_is_whole_bars_and_downloads_with_its_tempo_in_the_name(api: Any) -> None:
    for path in ("/api/v1/aurora/generate", "/api/v1/codex/generate"):
        response = api.client.post(
            path,
            json={"prompt": PROMPT + " at 120 bpm",
                  "options": {"loop": True, "bars": 4, "sample_rate": 22050, "wait_seconds": 60}},
            headers=api.alice,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        generation_id = response.json().get("generation_id") or response.json()["id"]
        assert _wait(api, generation_id)["status"] == "completed"
        audio = api.client.get(f"/api/v1/generations/{generation_id}/audio", headers=api.alice)
        assert audio.status_code == 200
        assert "_120bpm.wav" in audio.headers["content-disposition"]
        with sf.SoundFile(io.BytesIO(audio.content)) as f:
            assert f.frames == 4 * 4 * 60 * SR // 120
            assert "tempo=120 bpm" in f.copy_metadata()["comment"]


def test_bars_without_loop_is_refused(api: Any) -> None:
    response = api.client.post(
        "/api/v1/aurora/generate",
        json={"prompt": PROMPT, "options": {"bars": 4}},
        headers=api.alice,
    )
    assert response.status_code == 422 and "loop" in response.json()["error"]["message"]


def test_a_clip_uploaded_as_a_form_file_is_heard_and_a_form_without_one_is_refused(
    api: Any,
) -> None:
    heard = api.client.post(
        "/api/v1/analyze", files={"file": ("demo.flac", _clip(), "audio/flac")}, headers=api.alice
    )
    assert heard.status_code == 200, heard.text
    assert abs(heard.json()["tempo_bpm"] - 100.0) < 2.0
    no_file = (
        b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
    )
    two = api.client.build_request(
        "POST", "/api/v1/analyze", files={"a": ("a.flac", _clip()), "b": ("b.flac", _clip())}
    )
    for body, kind in (no_file, (two.read(), two.headers["content-type"])):
        refused = _analyze(api, body, kind)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "body"
        assert "files" in refused.json()["error"]["message"]
