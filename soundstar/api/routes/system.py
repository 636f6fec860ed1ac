"""Health, metrics, who-am-I, and the web page."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from soundstar import __version__
from soundstar.api.schemas import ERROR_RESPONSES, MeResponse
from soundstar.api.state import AppState, Caller, State, authenticate, client_address
from soundstar.aurora.chain import HEALTH
from soundstar.store.faults import storage_fault

router = APIRouter()
log = logging.getLogger("soundstar.api")
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "static"


def _database(state: AppState) -> dict[str, Any]:
    try:
        state.store.db.check_writable()
    except Exception as exc:
        fault = storage_fault(exc)
        return {"status": fault.code.lower() if fault is not None else "unavailable"}
    return {"status": "ok", "backend": state.store.db.dialect}


def _disk(state: AppState) -> dict[str, Any]:
    data_dir = state.settings.data_dir
    try:
        free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    except OSError:
        return {"status": "unavailable"}
    if not os.access(data_dir, os.W_OK):
        return {"status": "read_only", "free_mb": free_mb}
    full = free_mb < state.settings.api.min_free_disk_mb
    return {"status": "full" if full else "ok", "free_mb": free_mb}


def _queue(state: AppState) -> dict[str, Any]:
    describe = getattr(state.queue, "describe", None)
    if not callable(describe):
        return {"status": "unavailable"}
    try:
        info: dict[str, Any] = describe()
    except Exception as exc:
        return {"status": "unavailable", "reason": type(exc).__name__}
    return info


def _backend_view(backend: Any) -> dict[str, Any]:
    """A backend's breaker as the chain keeps it: closed, open (skipped) or half-open."""
    status = HEALTH.status(backend)
    return {"name": status.name, "state": status.state.value, "retry_in_s": status.retry_in_s}


@router.get("/health", tags=["system"])
def health(state: State) -> JSONResponse:
    """Whether the service can do its job, component by component (no auth): the
    database takes writes, the data directory has room, the queue has a reachable
    broker or live workers. 503 when any of them cannot work."""
    configured = [b for b in state.aurora.backends if b.configured]
    components = {"database": _database(state), "disk": _disk(state), "queue": _queue(state)}
    serving = all(c.get("status") == "ok" for c in components.values())
    body: dict[str, Any] = {
        "status": "ok" if serving else "unavailable",
        "version": __version__,
        "uptime_s": round(time.time() - state.started_at, 1),
        **components,
        "aurora": {
            "implementations": [b.name.value for b in configured],
            "backends": [_backend_view(b) for b in configured],
        },
    }
    return JSONResponse(body, status_code=200 if serving else 503)


@router.get(
    "/metrics",
    tags=["system"],
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        401: ERROR_RESPONSES[401],
        429: ERROR_RESPONSES[429],
    },
)
def metrics(request: Request, state: State) -> Response:
    """Prometheus text format (spec v1 §9.8). Needs an API key like every endpoint but /health."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    authenticate(
        state, token.strip() if scheme.lower() == "bearer" else None, client_address(request)
    )
    try:
        state.metrics.follow(state.store.jobs.finished_since)
    except Exception as exc:  # the job counters catch up at the next scrape
        log.warning("following finished jobs failed: %s", type(exc).__name__)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/api/v1/me", response_model=MeResponse, tags=["system"], responses=ERROR_RESPONSES)
def me(state: State, caller: Caller) -> MeResponse:
    """Who the API key belongs to: the web page's sign-in check."""
    return MeResponse(
        user={"id": caller.user.id, "name": caller.user.name},
        rate_limit_per_minute=state.settings.api.rate_limit_per_minute,
    )


@router.get("/", include_in_schema=False)
def index() -> Response:
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        return JSONResponse(
            {"error": {"code": "NOT_FOUND", "message": "the web page is not installed"}},
            status_code=404,
        )
    return FileResponse(page, media_type="text/html")
