"""The FastAPI application: `create_app(settings)` wires store, Aurora, job queue, limiter and metrics."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soundstar import __version__
from soundstar.api.auth import Authenticator
from soundstar.api.errors import install_error_handlers
from soundstar.api.guards import RequestGuard
from soundstar.api.metrics import Metrics
from soundstar.api.openapi import install_strict_openapi
from soundstar.api.ratelimit import RateLimiter
from soundstar.api.redaction import install_log_redaction
from soundstar.api.routes import aurora as aurora_routes
from soundstar.api.routes import (
    clip,
    codex,
    edits,
    embeddings,
    generations,
    live,
    stream,
    system,
)
from soundstar.api.service import FEEDBACK_THROTTLE_S
from soundstar.api.state import AppState
from soundstar.aurora.builders import build_aurora
from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.errors import StorageUnavailableError
from soundstar.store import Database, Store
from soundstar.store.database import database_url
from soundstar.store.faults import storage_fault

log = logging.getLogger("soundstar.api")

DESCRIPTION = """Describe the music you want; get audio, MIDI, stems and the plan.

Every endpoint except `/health` needs an API key: `Authorization: Bearer <key>`
(create one with `soundstar keys create NAME`). Errors are always
`{"error": {"code", "message"}}` with the specification's codes.
"""


def prepare_storage(settings: Settings) -> Database:
    """The database, migrated, once the data directory is known to take files: checked
    before the server starts, so a read-only or missing place is one clear error (the
    CLI prints one line), not a traceback."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StorageUnavailableError(
            f"the data directory {data_dir} is not writable ({exc.strerror or exc}); "
            "set SOUNDSTAR_DATA_DIR to a directory this user can write"
        ) from None
    db = Database(database_url(settings))
    try:
        db.upgrade()
    except Exception as exc:
        db.dispose()
        fault = storage_fault(exc)
        reason = fault.message if fault is not None else type(exc).__name__
        raise StorageUnavailableError(
            f"the database at {db.url.render_as_string(hide_password=True)} cannot be "
            f"prepared: {reason}"
        ) from None
    return db


def _build_queue(settings: Settings, store: Store) -> Any:
    from soundstar.jobs.queue import build_queue

    return build_queue(settings, store)


class _MeasureRequests:
    """Pure ASGI middleware timing each HTTP request by its route template (cheaper than
    Starlette's BaseHTTPMiddleware, which matters on the per-keystroke suggest path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            self.metrics.observe_request(
                scope.get("method", "GET"), endpoint, status, time.perf_counter() - start
            )


def create_app(
    settings: Settings,
    *,
    aurora: Aurora | None = None,
    queue: Any = None,
    start_queue: bool = True,
) -> FastAPI:
    """Build the app; the database is migrated and the queue started when the app starts."""
    install_log_redaction()
    db = prepare_storage(settings)
    store = Store(db, max_job_attempts=settings.jobs.max_attempts)
    aurora = aurora or build_aurora(settings)
    cache = getattr(aurora, "cache", None)
    metrics = Metrics(
        cache_stats=cache.stats if cache is not None and hasattr(cache, "stats") else None,
        worker_totals=store.counters.totals,
    )
    redis_url = settings.redis_url
    state = AppState(
        settings=settings,
        store=store,
        aurora=aurora,
        queue=queue,
        metrics=metrics,
        limiter=RateLimiter(
            settings.api.rate_limit_per_minute,
            settings.api.rate_limit_burst,
            redis_url=redis_url,
            counters=store.counters,
        ),
        auth=Authenticator(store),
        auth_failures=RateLimiter(
            settings.api.wrong_keys_per_minute,
            settings.api.wrong_keys_burst,
            redis_url=redis_url,
            counters=store.counters,
            name="wrongkey",
            what="too many requests with a wrong API key",
        ),
        feedback_throttle=RateLimiter(
            60.0 / FEEDBACK_THROTTLE_S,
            1,
            redis_url=redis_url,
            counters=store.counters,
            name="feedback",
            what="feedback was just given",
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.queue is None:
            state.queue = _build_queue(settings, store)
        warm_up = getattr(aurora, "warm_up", None)
        if callable(warm_up):
            try:
                warm_up()
            except Exception as exc:  # a slow or absent LLM must not stop the service starting
                log.warning("aurora warm-up: %s", exc)
        if start_queue:
            state.queue.start()
        try:
            yield
        finally:
            if start_queue:
                state.queue.stop()
            db.dispose()

    app = FastAPI(
        title="Soundstar",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.soundstar = state
    install_error_handlers(app)
    install_strict_openapi(app)

    app.add_middleware(
        RequestGuard,
        metrics=metrics,
        max_body_bytes=settings.api.max_body_bytes,
        upload_limits={clip.ANALYZE_PATH: settings.api.max_upload_bytes},
    )
    app.add_middleware(_MeasureRequests, metrics=metrics)

    for router in (
        system.router,
        aurora_routes.router,
        codex.router,
        edits.router,
        generations.router,
        embeddings.router,
        clip.router,
        stream.router,
        live.router,
    ):
        app.include_router(router)
    if system.STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=system.STATIC_DIR), name="static")
    return app
