"""Users: the owners of keys, sessions and generations."""

from __future__ import annotations

from sqlalchemy import select

from soundstar.errors import ParameterError
from soundstar.store._common import rejecting_bad_rows
from soundstar.store.database import Database
from soundstar.store.schemas import UserRecord
from soundstar.store.tables import User


def _record(row: User) -> UserRecord:
    return UserRecord(id=row.id, name=row.name, email=row.email, created_at=row.created_at)


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, email: str | None = None) -> UserRecord:
        """A new user; the name must be unique and non-empty."""
        name = name.strip()
        if not name or len(name) > 128:
            raise ParameterError("user name must be 1–128 characters", field="name")
        with self._db.session() as s, rejecting_bad_rows(f"user {name!r} (name taken?)"):
            row = User(name=name, email=email)
            s.add(row)
            s.flush()
            return _record(row)

    def get(self, user_id: int) -> UserRecord | None:
        with self._db.session() as s:
            row = s.get(User, user_id)
            return _record(row) if row else None

    def get_by_name(self, name: str) -> UserRecord | None:
        with self._db.session() as s:
            row = s.scalar(select(User).where(User.name == name.strip()))
            return _record(row) if row else None
