"""Refusals made before a request reaches a route: bodies over the size limit (413) and
NUL characters in the URL (400), which no store can keep and no id contains."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soundstar.api.metrics import Metrics


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")


class RequestGuard:
    """Pure ASGI middleware: a body size limit (from Content-Length, and counted as it is
    read, for chunked bodies) and no NUL in the path or query string."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        upload_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.upload_limits = dict(upload_limits or {})  # path → its own body limit

    async def _refuse(self, send: Send, status: int, code: str, message: str) -> None:
        self.metrics.observe_error(code)
        body = _error_body(code, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope.get("path", "") or b"%00" in query.lower() or b"\x00" in query:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await self._refuse(
                    send, 400, "VALIDATION_ERROR", "the URL must not contain NUL characters"
                )
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limits.get(scope.get("path", ""), self.max_body_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, 413, "PAYLOAD_TOO_LARGE", self._too_large_message(limit))
            return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # the route's error handler answers 413
                    raise HTTPException(413, detail=self._too_large_message(limit))
            return message

        await self.app(scope, counted_receive, send)

    def _too_large_message(self, limit: int) -> str:
        return f"the request body is larger than {limit} bytes"


def _content_length(scope: Scope) -> int | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
