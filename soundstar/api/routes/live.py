"""WebSocket `/api/v1/aurora/live`: an endless piece streamed as audio blocks, bar by bar.

The key comes as on the stream socket (a `bearer.<key>` subprotocol or a first `auth`
message). Then `{"type": "start", "prompt": ...}` starts playing: a `started` frame, then
one binary frame per block of `block_beats` (default one beat; see `live_wire`), rendered at most `lead_seconds` ahead of
playback (the time since the first block was sent). `{"type": "set", "name", "value"}`
changes a control from the next bar not yet rendered; `{"type": "stop"}` ends with a
`stopped` frame and a normal close. A bad frame gets an error frame; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from soundstar.api.auth import Principal
from soundstar.api.errors import validation_message
from soundstar.api.live_wire import (
    SetMessage,
    StartMessage,
    encode_block,
    parse_client_message,
    started,
)
from soundstar.api.routes.stream import (
    _error,
    _failure,
    decode_frame,
    open_socket,
)
from soundstar.api.state import AppState
from soundstar.live.changes import read_control
from soundstar.live.play import start_session
from soundstar.live.session import LiveSession

router = APIRouter()
MAX_PLAY_S = 3600.0  # one socket plays at most an hour


class _Live:
    """One socket: at most one session playing, its producer task, and the send lock."""

    def __init__(self, ws: WebSocket, state: AppState, principal: Principal) -> None:
        self.ws = ws
        self.state = state
        self.principal = principal
        self.session: LiveSession | None = None
        self.producer: asyncio.Task[None] | None = None
        self.send_lock = asyncio.Lock()
        self.render_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_json(message)

    async def send_bytes(self, data: bytes) -> None:
        async with self.send_lock:
            await self.ws.send_bytes(data)

    async def start(self, message: StartMessage) -> None:
        if self.session is not None:
            await self.send(_error("VALIDATION_ERROR", "already playing: send stop first"))
            return
        self.state.limiter.check(self.principal.key_fingerprint)
        session = await run_in_threadpool(
            start_session, self.state.aurora, message.prompt, seed=message.seed,
            sample_rate=message.sample_rate, parameters=message.parameters,
            block_beats=message.block_beats,
        )  # fmt: skip
        self.session = session
        await self.send(
            started(
                sample_rate=session.sample_rate,
                seed=session.seed,
                tempo_bpm=session.params.tempo_bpm,
                key=session.params.key,
                time_signature=session.params.time_signature,
            )
        )
        self.producer = asyncio.create_task(self._produce(session, message.lead_seconds))

    async def set(self, message: SetMessage) -> None:
        if self.session is None:
            await self.send(_error("VALIDATION_ERROR", "nothing is playing: send start first"))
            return
        override = read_control(f"{message.name}={message.value}")
        async with self.render_lock:  # not while a bar is being rendered
            self.session.change(override)
        await self.send({"type": "queued", "name": override.name, "value": override.value})

    async def _produce(self, session: LiveSession, lead_s: float) -> None:
        """Render and send bars, keeping at most `lead_s` ahead of playback."""
        began: float | None = None
        try:
            while session.seconds < MAX_PLAY_S:
                if began is not None:
                    ahead = session.seconds - (time.monotonic() - began)
                    if ahead > lead_s:
                        await asyncio.sleep(ahead - lead_s)
                        continue
                async with self.render_lock:
                    block = await run_in_threadpool(session.next_block)
                await self.send_bytes(encode_block(block, sample_rate=session.sample_rate))
                if began is None:
                    began = time.monotonic()
            await self.send({"type": "stopped", "reason": "the longest a socket plays"})
        except (WebSocketDisconnect, RuntimeError, OSError, asyncio.CancelledError):
            return
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self.send(_failure(exc))

    async def stop(self) -> None:
        if self.producer is not None:
            self.producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.producer
        self.producer, self.session = None, None


async def _answer(live: _Live, raw: dict[str, Any]) -> bool:
    """Handle one message; False when the socket should close. Errors become frames."""
    try:
        message = parse_client_message(raw)
    except ValidationError as exc:
        text, _ = validation_message(list(exc.errors()))
        await live.send(_error("VALIDATION_ERROR", text))
        return True
    try:
        if isinstance(message, StartMessage):
            await live.start(message)
        elif isinstance(message, SetMessage):
            await live.set(message)
        elif message.type == "ping":
            await live.send({"type": "pong"})
        else:
            await live.stop()
            await live.send({"type": "stopped", "reason": "asked"})
            return False
    except (WebSocketDisconnect, asyncio.CancelledError):
        raise
    except Exception as exc:
        await live.send(_failure(exc))
    return True


@router.websocket("/api/v1/aurora/live")
async def live_socket(ws: WebSocket) -> None:
    state: AppState = ws.app.state.soundstar
    opened = await open_socket(ws, state)
    if opened is None:
        return
    principal, pending = opened
    live = _Live(ws, state, principal)
    try:
        await live.send({"type": "ready", "user": principal.user.name})
        if pending is not None and not await _answer(live, pending):
            await ws.close(code=1000)
            return
        while True:
            frame = await ws.receive()
            if frame.get("type") == "websocket.disconnect":
                return
            message = decode_frame(frame)
            if isinstance(message, str):
                await live.send(_error("VALIDATION_ERROR", message))
                continue
            if not await _answer(live, message):
                await ws.close(code=1000)
                return
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        await live.stop()
