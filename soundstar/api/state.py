"""What one running service holds: settings, store, Aurora, job queue, limiter, metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from soundstar.api.auth import Authenticator, Principal
from soundstar.api.metrics import Metrics
from soundstar.api.ratelimit import RateLimiter
from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.errors import UnauthorizedError
from soundstar.store import Store


@dataclass
class AppState:
    settings: Settings
    store: Store
    aurora: Aurora
    queue: Any
    metrics: Metrics
    limiter: RateLimiter
    auth: Authenticator
    auth_failures: RateLimiter
    feedback_throttle: RateLimiter
    started_at: float = field(default_factory=time.time)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.soundstar
    return state


_bearer = HTTPBearer(auto_error=False, description="An API key from `soundstar keys create`")


def authenticate(state: AppState, token: str | None, client: str | None = None) -> Principal:
    """Verify a token and charge one request to its rate-limit bucket. Wrong keys are
    charged to the caller's address (`client`), so guessing keys is rate-limited too."""
    if not token:
        raise UnauthorizedError(
            "send your API key as 'Authorization: Bearer <key>' (create one with `soundstar keys create`)"
        )
    try:
        principal = state.auth.verify(token)
    except UnauthorizedError:
        state.auth_failures.check(client or "unknown")
        raise
    state.limiter.check(principal.key_fingerprint)
    return principal


def client_address(request: Request) -> str | None:
    """The caller's address, for limiting wrong keys."""
    return request.client.host if request.client is not None else None


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    state = app_state(request)
    token = credentials.credentials if credentials is not None else None
    if credentials is not None and credentials.scheme.lower() != "bearer":
        token = None
    return authenticate(state, token, client_address(request))


State = Annotated[AppState, Depends(app_state)]
Caller = Annotated[Principal, Depends(current_principal)]
