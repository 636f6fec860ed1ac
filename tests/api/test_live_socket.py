"""WebSocket /api/v1/aurora/live: authenticated, it streams a bar per binary frame with the
changes sent heard from a later bar; bad messages get error frames; stop closes cleanly."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from soundstar.api.live_wire import decode_block

LIVE = "/api/v1/aurora/live"
PROMPT = "an upbeat synthwave track with pulsing bass, drums and dreamy pads"


def _keyed(headers: dict[str, str]) -> list[str]:
    return ["soundstar", "bearer." + headers["Authorization"].split(" ", 1)[1]]


def _next_block(ws: Any) -> tuple[Any, np.ndarray]:
    while True:
        message = ws.receive()
        if message.get("bytes") is not None:
            return decode_block(message["bytes"])
        assert '"error"' not in message["text"], message["text"]


def test_blocks_stream_and_a_change_is_heard_from_a_later_bar(api: Any) -> None:
    with api.client.websocket_connect(LIVE, subprotocols=_keyed(api.alice)) as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "start", "prompt": PROMPT, "seed": 3, "sample_rate": 22050,
                      "lead_seconds": 10})  # fmt: skip
        begun = ws.receive_json()
        assert begun["type"] == "started" and begun["sample_rate"] == 22050
        header, audio = _next_block(ws)
        assert header.index == 0 and audio.shape == (2, header.frames) and np.abs(audio).max() > 0
        assert header.start_s == 0 and header.sample_rate == 22050
        ws.send_json({"type": "set", "name": "tempo_bpm", "value": "150"})
        headers = [_next_block(ws)[0] for _ in range(8)]
        changed = [h for h in headers if h.changed]
        assert changed and changed[0].changed == ["tempo_bpm"]
        assert all(h.tempo_bpm == 150 for h in headers if h.index >= changed[0].index)
        assert all(h.tempo_bpm != 150 for h in headers if h.index < changed[0].index)
        ws.send_json({"type": "stop"})
        while True:
            message = ws.receive()
            if message.get("text") and '"stopped"' in message["text"]:
                break
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1000


def test_bad_messages_get_error_frames_and_the_socket_stays_open(api: Any) -> None:
    with api.client.websocket_connect(LIVE, subprotocols=_keyed(api.bob)) as ws:
        ws.receive_json()
        for bad in ({"type": "set", "name": "tempo_bpm", "value": "100"},  # nothing playing
                    {"type": "start"}, {"type": "dance"},
                    {"type": "start", "prompt": "x" * 600}):  # fmt: skip
            ws.send_json(bad)
            assert ws.receive_json()["error"]["code"] == "VALIDATION_ERROR"
        ws.send_text("not json")
        assert ws.receive_json()["error"]["code"] == "VALIDATION_ERROR"
        ws.send_json({"type": "start", "prompt": "calm piano for a rainy study night",
                      "sample_rate": 22050, "lead_seconds": 0.5})  # fmt: skip
        assert ws.receive_json()["type"] == "started"
        _next_block(ws)
        for name, value in (("tempo_bpm", "900"), ("mute", "vocals"), ("duration_seconds", "9")):
            ws.send_json({"type": "set", "name": name, "value": value})
            while True:
                message = ws.receive()
                if message.get("text"):
                    break
            assert '"VALIDATION_ERROR"' in message["text"] and name in message["text"]
        ws.send_json({"type": "ping"})
        while True:
            message = ws.receive()
            if message.get("text"):
                assert json.loads(message["text"]) == {"type": "pong"}
                break


def test_without_a_key_the_socket_is_refused(api: Any) -> None:
    with api.client.websocket_connect(LIVE, subprotocols=["soundstar", "bearer.nope"]) as ws:
        message = ws.receive_json()
        assert message["error"]["code"] == "UNAUTHORIZED"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_parameters_given_are_played_as_given(api: Any) -> None:
    parsed = api.client.post(
        "/api/v1/aurora/parse", json={"prompt": PROMPT}, headers=api.alice
    ).json()
    params = {**parsed["musical_parameters"], "tempo_bpm": 77.0, "key": "E minor"}
    with api.client.websocket_connect(LIVE, subprotocols=_keyed(api.alice)) as ws:
        ws.receive_json()
        ws.send_json({"type": "start", "prompt": PROMPT, "sample_rate": 22050,
                      "parameters": params})  # fmt: skip
        begun = ws.receive_json()
        assert (begun["tempo_bpm"], begun["key"]) == (77.0, "E minor")
        header, _ = _next_block(ws)
        assert (header.tempo_bpm, header.key) == (77.0, "E minor")
        ws.send_json({"type": "start", "prompt": PROMPT})
        while True:
            message = ws.receive()
            if message.get("text"):
                assert "already playing" in message["text"]
                break
