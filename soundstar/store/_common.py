"""Helpers the repositories share: ids, integrity-error translation, ownership checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from soundstar.errors import ParameterError
from soundstar.store.tables import AuroraSession


def new_id() -> str:
    """A random UUID4 as the 36-character string the spec's VARCHAR(36) keys hold."""
    return str(uuid.uuid4())


@contextmanager
def rejecting_bad_rows(what: str) -> Iterator[None]:
    """Turn a constraint violation into a ParameterError naming `what` (the caller's
    session then rolls the whole unit of work back)."""
    try:
        yield
    except (IntegrityError, DataError) as exc:
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise ParameterError(f"cannot store {what}: {detail}") from exc


def owned_session(session: Session, session_id: str, user_id: int) -> AuroraSession | None:
    """The Aurora session row if it exists and belongs to `user_id`, else None."""
    return session.scalar(
        select(AuroraSession).where(
            AuroraSession.id == session_id, AuroraSession.user_id == user_id
        )
    )
