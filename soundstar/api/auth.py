"""API keys as Bearer tokens (DESIGN.md "Service"); every endpoint but /health needs one."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from fastapi import Request

from soundstar.errors import UnauthorizedError
from soundstar.store import Store
from soundstar.store.schemas import UserRecord


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, and a stable id of the key used (for rate limiting)."""

    user: UserRecord
    key_fingerprint: str


class Authenticator:
    """Verifies tokens against the store, remembering good ones for a moment.

    Each verification is a database round trip; the suggest endpoint is called
    on every keystroke, so a verified token is trusted for `ttl_s` seconds
    (a revoked key stops working within that time).
    """

    def __init__(self, store: Store, *, ttl_s: float = 2.0) -> None:
        self._store = store
        self._ttl = ttl_s
        self._seen: dict[str, tuple[float, UserRecord]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        fingerprint = hashlib.sha256(token.encode("utf-8")).hexdigest()[:24]
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(fingerprint)
        if hit is not None and now - hit[0] < self._ttl:
            return Principal(hit[1], fingerprint)
        user = self._store.api_keys.verify(token) if token else None
        if user is None:
            raise UnauthorizedError("the API key is missing, unknown or revoked")
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[fingerprint] = (now, user)
        return Principal(user, fingerprint)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError(
            "send your API key as 'Authorization: Bearer <key>' (create one with `soundstar keys create`)"
        )
    return token.strip()
