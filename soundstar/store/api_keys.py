"""API keys: random bearer tokens stored only as SHA-256 hashes.

A token is `ss_` + 43 url-safe characters (256 bits); its first 11 characters
are kept in the clear as a prefix so keys can be listed and looked up, and the
hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from soundstar.errors import NotFoundError, ParameterError
from soundstar.store._common import rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import ApiKeyRecord, NewApiKey, UserRecord
from soundstar.store.tables import ApiKey, User
from soundstar.store.types import utc_now

TOKEN_MARK = "ss_"
TOKEN_BYTES = 32
PREFIX_CHARS = len(TOKEN_MARK) + 8
LAST_USED_RESOLUTION = timedelta(seconds=60)
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what the table holds instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, name: str | None = None) -> NewApiKey:
        """Make a key for `user_id`; the plaintext token is returned here and nowhere else."""
        self._check_name(name)
        token = TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)
        with self._db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            with rejecting_bad_rows("API key"):
                row = ApiKey(
                    user_id=user_id,
                    name=name,
                    prefix=token[:PREFIX_CHARS],
                    key_hash=hash_token(token),
                )
                s.add(row)
                s.flush()
            return NewApiKey(token=token, key=_record(row))

    def verify(self, token: str) -> UserRecord | None:
        """The user a live token belongs to, or None (unknown, malformed or revoked).

        Recording `last_used_at` is best effort, in its own transaction: a store that
        refuses writes (read-only, full) must not stop a valid key from reading.
        """
        if (
            not token.startswith(TOKEN_MARK)
            or not PREFIX_CHARS + 8 <= len(token) <= 256
            or not _TOKEN_CHARS.issuperset(token[len(TOKEN_MARK) :])
        ):
            return None
        digest = hash_token(token)
        now = utc_now()
        with self._db.session() as s:
            candidates = s.scalars(
                select(ApiKey).where(ApiKey.prefix == token[:PREFIX_CHARS])
            ).all()
            match = None
            for row in candidates:
                if hmac.compare_digest(row.key_hash, digest):
                    match = row
            if match is None or match.revoked_at is not None:
                return None
            stale = match.last_used_at is None or now - match.last_used_at > LAST_USED_RESOLUTION
            key_id = match.id
            user = s.get(User, match.user_id)
            if user is None:
                return None
            record = UserRecord(
                id=user.id, name=user.name, email=user.email, created_at=user.created_at
            )
        if stale:
            self._touch(key_id, now)
        return record

    def _touch(self, key_id: int, now: datetime) -> None:
        try:
            with self._db.session() as s:
                s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        except SQLAlchemyError as exc:
            log.warning("could not record when API key %d was used: %s", key_id, type(exc).__name__)

    def revoke(self, key_id: int, user_id: int) -> bool:
        """Revoke one of `user_id`'s keys; False if there is no such key of theirs."""
        with self._db.session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = utc_now()
            return True

    def list_for_user(self, user_id: int) -> list[ApiKeyRecord]:
        """Every key of `user_id`, oldest first, revoked ones included."""
        with self._db.session() as s:
            rows = s.scalars(
                select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
            ).all()
            return [_record(r) for r in rows]

    def _check_name(self, name: str | None) -> None:
        if name is not None and len(name) > 128:
            raise ParameterError("API key name must be at most 128 characters", field="name")
