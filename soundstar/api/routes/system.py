"""Health, metrics, who-am-I, and the web page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import text

from soundstar import __version__
from soundstar.api.schemas import ERROR_RESPONSES, MeResponse
from soundstar.api.state import Caller, State, authenticate
from soundstar.aurora.chain import HEALTH

router = APIRouter()
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "static"


def _backend_view(backend: Any) -> dict[str, Any]:
    """A backend's breaker as the chain keeps it: closed, open (skipped) or half-open."""
    status = HEALTH.status(backend)
    return {"name": status.name, "state": status.state.value, "retry_in_s": status.retry_in_s}


@router.get("/health", tags=["system"])
def health(state: State) -> JSONResponse:
    """Liveness and readiness: the database answers, the queue runs. No auth."""
    checks: dict[str, Any] = {
        "version": __version__,
        "uptime_s": round(time.time() - state.started_at, 1),
    }
    healthy = True
    try:
        with state.store.db.session() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
        healthy = False
    describe = getattr(state.queue, "describe", None)
    checks["queue"] = describe() if callable(describe) else {"backend": type(state.queue).__name__}
    configured = [b for b in state.aurora.backends if b.configured]
    checks["aurora"] = {
        "implementations": [b.name.value for b in configured],
        "backends": [_backend_view(b) for b in configured],
    }
    checks["status"] = "ok" if healthy else "degraded"
    return JSONResponse(checks, status_code=200 if healthy else 503)


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
    authenticate(state, token.strip() if scheme.lower() == "bearer" else None)
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
