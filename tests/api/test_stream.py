"""WebSocket /api/v1/aurora/stream: suggestions as partial/complete messages, and job progress."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

STREAM = "/api/v1/aurora/stream"


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def _keyed(headers: dict[str, str]) -> list[str]:
    """The subprotocols a browser offers to authenticate: `soundstar` and `bearer.<key>`."""
    return ["soundstar", f"bearer.{_token(headers)}"]


def test_suggestions_stream_as_partials_then_complete(api: Any) -> None:
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.alice)) as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json(
            {"type": "suggest", "partial_prompt": "a dreamy synthw", "suggestion_count": 3}
        )
        partials = []
        while True:
            message = ws.receive_json()
            if message["type"] == "complete":
                break
            assert message["type"] == "partial"
            partials.append(message["content"])
        assert partials and partials == message["suggestions"]
        assert "inferred_context" in message


def test_the_key_may_come_in_a_first_message(api: Any) -> None:
    with api.client.websocket_connect("/api/v1/aurora/stream") as ws:
        ws.send_json({"type": "auth", "api_key": _token(api.bob)})
        assert ws.receive_json() == {"type": "ready", "user": "bob"}


def test_a_bad_key_gets_an_error_and_the_socket_closes(api: Any) -> None:
    with api.client.websocket_connect(STREAM, subprotocols=["soundstar", "bearer.wrong"]) as ws:
        message = ws.receive_json()
        assert message["type"] == "error" and message["error"]["code"] == "UNAUTHORIZED"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_bad_messages_get_errors_and_the_socket_stays_open(api: Any) -> None:
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.alice)) as ws:
        ws.receive_json()
        ws.send_text("not json")
        assert ws.receive_json()["error"]["code"] == "VALIDATION_ERROR"
        ws.send_json({"type": "suggest", "partial_prompt": "x" * 600})
        assert ws.receive_json()["error"]["code"] == "VALIDATION_ERROR"
        ws.send_json({"type": "dance"})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


@pytest.mark.slow
def test_generation_progress_streams_until_complete(api: Any) -> None:
    job = api.client.post(
        "/api/v1/aurora/generate",
        json={
            "prompt": "a bright funk groove with slap bass",
            "options": {"duration_seconds": 6, "sample_rate": 22050},
        },
        headers=api.alice,
    ).json()
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.alice)) as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "generation_id": job["generation_id"]})
        progress = []
        while True:
            message = ws.receive_json()
            if message["type"] == "complete":
                break
            assert message["type"] == "progress"
            progress.append(message["progress"])
        assert progress == sorted(progress)
        assert message["generation"]["status"] == "completed"
        assert message["generation"]["audio_url"]


def test_subscribing_to_someone_elses_generation_is_not_found(api: Any) -> None:
    job = api.client.post(
        "/api/v1/aurora/generate",
        json={
            "prompt": "a bright funk groove with slap bass",
            "options": {"duration_seconds": 5, "sample_rate": 22050},
        },
        headers=api.alice,
    ).json()
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.bob)) as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "generation_id": job["generation_id"]})
        message = ws.receive_json()
        assert message["type"] == "error" and message["error"]["code"] == "NOT_FOUND"


def test_the_accepted_subprotocol_is_soundstar_never_the_key(api: Any) -> None:
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.alice)) as ws:
        assert ws.accepted_subprotocol == "soundstar"
        assert ws.receive_json()["type"] == "ready"


def test_a_key_in_the_url_is_refused(api: Any) -> None:
    with api.client.websocket_connect(f"{STREAM}?api_key={_token(api.alice)}") as ws:
        message = ws.receive_json()
        assert message["error"]["code"] == "UNAUTHORIZED"
        assert "URL" in message["error"]["message"]
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x01binary", "binary"),
        ("[" * 4000 + "]" * 4000, "JSON objects"),
        ('{"a":' * 3000 + "1" + "}" * 3000, "too large"),
        ("[" * 2000 + "]" * 2000, "JSON objects"),
        ('{"type": "unknown"}', "type must be"),
        ('{"type": "subscribe", "generation_id": "a\\u0000b"}', "generation_id"),
        ("42", "JSON objects"),
    ],
)
def test_every_bad_frame_gets_an_error_frame_and_the_socket_stays_open(
    api: Any, frame: str | bytes, reason: str
) -> None:
    with api.client.websocket_connect(STREAM, subprotocols=_keyed(api.alice)) as ws:
        ws.receive_json()
        if isinstance(frame, bytes):
            ws.send_bytes(frame)
        else:
            ws.send_text(frame)
        message = ws.receive_json()
        assert message["type"] == "error" and reason in message["error"]["message"]
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_spec_v1_prompt_message_streams_text_partials(api: Any) -> None:
    with api.client.websocket_connect("/api/v1/codex/stream", subprotocols=_keyed(api.alice)) as ws:
        ws.receive_json()
        ws.send_json({"prompt": "a dreamy synthwave track with"})
        texts = []
        while (message := ws.receive_json())["type"] == "partial":
            texts.append(message["content"])
        assert message["type"] == "complete"
        assert texts and all(isinstance(t, str) and t for t in texts)


def test_a_v1_first_message_may_carry_the_key_and_the_prompt(api: Any) -> None:
    with api.client.websocket_connect("/api/v1/codex/stream") as ws:
        ws.send_json({"prompt": "lofi hip hop with", "api_key": _token(api.bob)})
        assert ws.receive_json() == {"type": "ready", "user": "bob"}
        assert ws.receive_json()["type"] == "partial"
