"""WebSocket `/api/v1/aurora/stream` (spec v1 §7.4): live suggestions and generation progress.

Browsers cannot set headers on a WebSocket, so the API key comes as the
`api_key` query parameter or in a first `{"type": "auth", "api_key": ...}` message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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
from soundstar.errors import SoundstarError

router = APIRouter()
log = logging.getLogger("soundstar.api")
POLL_S = 0.2
MAX_MESSAGE_BYTES = 8192


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


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

    async def suggest(self, message: dict[str, Any]) -> None:
        fields = {k: v for k, v in message.items() if k != "type"}
        try:
            body = SuggestRequest(**fields)
            self.state.limiter.check(self.principal.key_fingerprint)
            answer = await run_in_threadpool(suggest_response, self.state, body)
        except ValidationError as exc:
            text, _ = validation_message(list(exc.errors()))
            await self.send(_error("VALIDATION_ERROR", text))
            return
        except SoundstarError as exc:
            await self.send(_error(exc.code, exc.message))
            return
        payload = answer.model_dump(mode="json")
        for suggestion in payload["suggestions"]:
            await self.send({"type": "partial", "content": suggestion})
        await self.send({"type": "complete", **payload})

    async def subscribe(self, message: dict[str, Any]) -> None:
        job_id = message.get("generation_id")
        if not isinstance(job_id, str) or not job_id or len(job_id) > 64:
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
                except SoundstarError as exc:
                    await self.send(_error(exc.code, exc.message))
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


async def _authenticate(ws: WebSocket, state: AppState) -> Principal | None:
    token = ws.query_params.get("api_key")
    if not token:
        with contextlib.suppress(Exception):
            first = json.loads(await asyncio.wait_for(ws.receive_text(), timeout=10))
            if isinstance(first, dict) and first.get("type") == "auth":
                token = first.get("api_key")
    try:
        return await run_in_threadpool(
            authenticate, state, token if isinstance(token, str) else None
        )
    except SoundstarError as exc:
        await ws.send_json(_error(exc.code, exc.message))
        await ws.close(code=4401 if exc.http_status == 401 else 4429)
        return None


@router.websocket("/api/v1/aurora/stream")
async def stream(ws: WebSocket) -> None:
    state: AppState = ws.app.state.soundstar
    await ws.accept()
    principal = await _authenticate(ws, state)
    if principal is None:
        return
    session = _Stream(ws, state, principal)
    await session.send({"type": "ready", "user": principal.user.name})
    try:
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE_BYTES:
                await session.send(_error("VALIDATION_ERROR", "message too large"))
                continue
            try:
                message = json.loads(text)
            except json.JSONDecodeError:
                await session.send(_error("VALIDATION_ERROR", "messages must be JSON objects"))
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "suggest":
                await session.suggest(message)
            elif kind == "subscribe":
                await session.subscribe(message)
            elif kind == "ping":
                await session.send({"type": "pong"})
            else:
                await session.send(
                    _error("VALIDATION_ERROR", "type must be 'suggest', 'subscribe' or 'ping'")
                )
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
