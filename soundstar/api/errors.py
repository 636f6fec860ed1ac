"""One error format for every response: `{"error": {"code", "message"}}` (spec v1 App. B, v2 §9.3).

Validation errors name the field; nothing internal (no stack trace, no SQL)
ever reaches a client — unexpected failures are logged and answered with a
generic INTERNAL_ERROR.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from soundstar.errors import InvalidPromptError, RateLimitedError, SoundstarError
from soundstar.store.faults import storage_fault

log = logging.getLogger("soundstar.api")

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}
_PROMPT_FIELDS = frozenset({"prompt", "partial_prompt"})
WWW_AUTHENTICATE = 'Bearer realm="soundstar"'


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


def soundstar_error_response(exc: SoundstarError) -> JSONResponse:
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    elif exc.http_status == 401:
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
    elif exc.http_status == 503:
        headers = {"Retry-After": "5"}
    if exc.http_status >= 500:
        log.warning("request failed: %s: %s", exc.code, exc.message)
    return error_response(exc.http_status, exc.code, exc.message, field=exc.field, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def validation_message(errors: Sequence[Any]) -> tuple[str, str | None]:
    """A one-line message naming the first offending field, and that field's dotted path."""
    if not errors:
        return "the request is not valid", None
    first = errors[0]
    field = _field_path(tuple(first.get("loc", ())))
    msg = str(first.get("msg", "is not valid"))
    if first.get("type") == "missing":
        msg = "is required"
    elif first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    if field:
        return f"{field}: {msg}{more}", field
    return f"request body: {msg}{more}", None


def _bad_prompt_length(errors: Sequence[Any]) -> InvalidPromptError | None:
    """A prompt empty or over its length limit is INVALID_PROMPT (400, spec v1 Appendix B),
    not a 422."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if not loc or loc[-1] not in _PROMPT_FIELDS:
            continue
        if error.get("type") == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            return InvalidPromptError(
                f"the prompt is too long: at most {limit} characters", field=str(loc[-1])
            )
        if error.get("type") == "string_too_short":
            return InvalidPromptError("the prompt is empty: describe the music", field=str(loc[-1]))
    return None


def _count(request: Request, code: str) -> None:
    state = getattr(request.app.state, "soundstar", None)
    if state is not None:
        state.metrics.observe_error(code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SoundstarError)
    async def _soundstar(request: Request, exc: SoundstarError) -> JSONResponse:
        _count(request, exc.code)
        return soundstar_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        prompt_error = _bad_prompt_length(errors)
        if prompt_error is not None:
            _count(request, prompt_error.code)
            return soundstar_error_response(prompt_error)
        message, field = validation_message(errors)
        _count(request, "VALIDATION_ERROR")
        return error_response(422, "VALIDATION_ERROR", message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        _count(request, code)
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such endpoint"
        return error_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    async def _storage(request: Request, exc: Exception) -> JSONResponse:
        """Database and file-system faults, answered here (not by the server-error
        middleware, which would log a traceback and re-raise)."""
        fault = storage_fault(exc)
        if fault is None:
            return _unexpected(request, exc)
        log.warning(
            "storage fault on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        _count(request, fault.code)
        return soundstar_error_response(fault)

    app.add_exception_handler(DBAPIError, _storage)
    app.add_exception_handler(OSError, _storage)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return _unexpected(request, exc)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _count(request, "INTERNAL_ERROR")
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "INTERNAL_ERROR", "something went wrong on our side; it has been logged"
    )
