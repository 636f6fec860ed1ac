"""WebSocket `/api/v1/aurora/stream` (spec v1 §7.4): live suggestions and generation progress.

Browsers cannot set headers on a WebSocket, and a URL ends up in access logs, so the
API key never travels in the URL: it comes as a subprotocol (`new WebSocket(url,
["soundstar", "bearer." + key])`) or in a first `{"type": "auth", "api_key": ...}`
message. Every frame gets an answer: a bad one (binary, not JSON, too deep, unknown
type) an error frame, never a dropped connection or a traceback. A spec v1 client's
`{"prompt": ...}` is answered with `partial` frames whose `content` is text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from soundstar.api import service
from soundstar.api.auth import Principal
from soundstar.api.errors import validation_message
from soundstar.api.routes.aurora import suggest_response
from soundstar.api.schemas import SuggestRequest
from soundstar.api.shapes import generation_view
from soundstar.api.state import AppState, authenticate
from soundstar.errors import SoundstarError, UnauthorizedError
from soundstar.store.faults import storage_fault

router = APIRouter()
log = logging.getLogger("soundstar.api")
POLL_S = 0.2
MAX_MESSAGE_BYTES = 8192
AUTH_TIMEOUT_S = 10.0
SUBPROTOCOL = "soundstar"
BEARER_PROTOCOL = "bearer."
V1_PROMPT_MAX = 500


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


def _failure(exc: Exception) -> dict[str, Any]:
    """The error frame for anything a message's handling raised (nothing internal shown)."""
    if isinstance(exc, SoundstarError):
        return _error(exc.code, exc.message)
    fault = storage_fault(exc)
    if fault is not None:
        return _error(fault.code, fault.message)
    log.warning("stream message failed: %s", type(exc).__name__)
    return _error("INTERNAL_ERROR", "something went wrong on our side; it has been logged")


def decode_frame(frame: Mapping[str, Any]) -> dict[str, Any] | str:
    """A received frame as a JSON object, or the reason it is not one."""
    text = frame.get("text")
    if text is None:
        return "binary frames are not accepted: send JSON text"
    if len(text) > MAX_MESSAGE_BYTES:
        return f"message too large: at most {MAX_MESSAGE_BYTES} bytes"
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return "messages must be JSON objects"
    if not isinstance(message, dict):
        return "messages must be JSON objects"
    return message


class _Stream:
    def __init__(self, ws: WebSocket, state: AppState, principal: Principal) -> None:
        self.ws = ws
        self.state = state
        self.principal = principal
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self.send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_json(message)

    async def suggest(self, message: dict[str, Any], *, v1: bool = False) -> None:
        """Suggestions as `partial` frames, then `complete`. A v1 client (`{"prompt"}`)
        gets each suggestion's text as `content`, as spec v1 §7.4 shows."""
        if v1:
            prompt = message.get("prompt")
            if not isinstance(prompt, str):
                await self.send(_error("VALIDATION_ERROR", "prompt: must be text"))
                return
            fields: dict[str, Any] = {"partial_prompt": prompt[-V1_PROMPT_MAX:]}
        else:
            fields = {k: v for k, v in message.items() if k != "type"}
        try:
            body = SuggestRequest(**fields)
            self.state.limiter.check(self.principal.key_fingerprint)
            answer = await run_in_threadpool(suggest_response, self.state, body)
        except ValidationError as exc:
            text, _ = validation_message(list(exc.errors()))
            await self.send(_error("VALIDATION_ERROR", text))
            return
        payload = answer.model_dump(mode="json")
        for suggestion in payload["suggestions"]:
            content = suggestion["text"] if v1 else suggestion
            await self.send({"type": "partial", "content": content})
        await self.send({"type": "complete", **payload})

    async def subscribe(self, message: dict[str, Any]) -> None:
        job_id = message.get("generation_id")
        if not isinstance(job_id, str) or not 0 < len(job_id) <= 64 or "\x00" in job_id:
            await self.send(_error("VALIDATION_ERROR", "generation_id: must be a generation id"))
            return
        if job_id in self.watchers:
            return
        self.watchers[job_id] = asyncio.create_task(self._watch(job_id))

    async def _watch(self, job_id: str) -> None:
        last: tuple[str, float, str | None] | None = None
        base = str(self.ws.base_url).replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        try:
            while True:
                try:
                    job = await run_in_threadpool(
                        service.get_job, self.state, self.principal, job_id
                    )
                except Exception as exc:
                    await self.send(_failure(exc))
                    return
                now = (job.status, round(job.progress, 3), job.stage)
                if now != last:
                    last = now
                    await self.send(
                        {
                            "type": "progress",
                            "generation_id": job_id,
                            "status": job.status,
                            "progress": round(job.progress, 4),
                            "stage": job.stage,
                        }
                    )
                if job.status in ("completed", "failed"):
                    view = generation_view(job, base)
                    await self.send(
                        {"type": "complete", "generation": view.model_dump(mode="json")}
                    )
                    return
                await asyncio.sleep(POLL_S)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.watchers.pop(job_id, None)

    async def close(self) -> None:
        for task in list(self.watchers.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _offered_key(ws: WebSocket) -> str | None:
    """The key offered as a `bearer.<key>` subprotocol, if any."""
    offered = ws.scope.get("subprotocols") or []
    for protocol in offered:
        if isinstance(protocol, str) and protocol.startswith(BEARER_PROTOCOL):
            return protocol[len(BEARER_PROTOCOL) :]
    return None


async def _first_message(ws: WebSocket) -> tuple[str | None, dict[str, Any] | None]:
    """The key from a first message, and that message when it also asks for something
    (a v1 client's `{"prompt", "api_key"}`)."""
    with contextlib.suppress(asyncio.TimeoutError):
        frame = await asyncio.wait_for(ws.receive(), timeout=AUTH_TIMEOUT_S)
        if frame.get("type") == "websocket.disconnect":
            raise WebSocketDisconnect(int(frame.get("code") or 1000))
        message = decode_frame(frame)
        if isinstance(message, dict):
            token = message.get("api_key")
            rest = {k: v for k, v in message.items() if k != "api_key"}
            wanted = rest if rest.get("type", "auth") != "auth" or "prompt" in rest else None
            return (token if isinstance(token, str) else None), wanted
    return None, None


async def _authenticate(ws: WebSocket, state: AppState) -> tuple[Principal, dict[str, Any] | None]:
    """Who is on the socket; the first message when it should still be answered."""
    if "api_key" in ws.query_params:
        raise UnauthorizedError(
            "do not put the API key in the URL: send it in a first "
            '{"type": "auth", "api_key": ...} message or as a bearer.<key> subprotocol'
        )
    token, pending = _offered_key(ws), None
    if token is None:
        token, pending = await _first_message(ws)
    client = ws.client.host if ws.client is not None else None
    principal = await run_in_threadpool(authenticate, state, token, client)
    return principal, pending


async def _dispatch(session: _Stream, message: dict[str, Any]) -> None:
    kind = message.get("type")
    if kind == "suggest":
        await session.suggest(message)
    elif kind is None and "prompt" in message:
        await session.suggest(message, v1=True)
    elif kind == "subscribe":
        await session.subscribe(message)
    elif kind == "ping":
        await session.send({"type": "pong"})
    elif kind == "auth":
        await session.send(_error("VALIDATION_ERROR", "already authenticated"))
    else:
        await session.send(
            _error("VALIDATION_ERROR", "type must be 'suggest', 'subscribe' or 'ping'")
        )


async def _answer(session: _Stream, message: dict[str, Any]) -> None:
    """Handle one message; whatever it raises becomes an error frame."""
    try:
        await _dispatch(session, message)
    except (WebSocketDisconnect, asyncio.CancelledError):
        raise
    except Exception as exc:
        await session.send(_failure(exc))


async def open_socket(
    ws: WebSocket, state: AppState
) -> tuple[Principal, dict[str, Any] | None] | None:
    """Accept the socket and learn who is on it (with the first message, when it should
    still be answered); a caller who cannot be let in is refused with an error frame and a
    close code, and None is returned."""
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    try:
        return await _authenticate(ws, state)
    except WebSocketDisconnect:
        return None
    except Exception as exc:
        refusal = _failure(exc)
        with contextlib.suppress(Exception):
            await ws.send_json(refusal)
            status = getattr(exc, "http_status", 500)
            await ws.close(code=4401 if status == 401 else 4429 if status == 429 else 1011)
        return None


async def _serve(ws: WebSocket) -> None:
    state: AppState = ws.app.state.soundstar
    opened = await open_socket(ws, state)
    if opened is None:
        return
    principal, pending = opened
    session = _Stream(ws, state, principal)
    try:
        await session.send({"type": "ready", "user": principal.user.name})
        if pending is not None:
            await _answer(session, pending)
        while True:
            frame = await ws.receive()
            if frame.get("type") == "websocket.disconnect":
                return
            message = decode_frame(frame)
            if isinstance(message, str):
                await session.send(_error("VALIDATION_ERROR", message))
                continue
            await _answer(session, message)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away (a send on a closed socket raises one of these)
    finally:
        await session.close()


@router.websocket("/api/v1/aurora/stream")
async def stream(ws: WebSocket) -> None:
    await _serve(ws)


@router.websocket("/api/v1/codex/stream")
async def codex_stream(ws: WebSocket) -> None:
    """The same socket at spec v1's path (§7.4)."""
    await _serve(ws)
