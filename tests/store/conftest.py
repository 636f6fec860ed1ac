"""Fixtures: every store test runs on a SQLite file in tmp_path and on PostgreSQL.

The PostgreSQL variant uses the `test` database at 127.0.0.1:5432 (user
postgres) with a fresh schema per test, dropped afterwards; it is skipped,
with the reason, when that server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from soundstar.store import Database, Store, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables yet, on each backend."""
    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path / "store.db"))
    else:
        db = Database(request.getfixturevalue("pg_schema_url"))
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A database migrated to head, on each backend."""
    empty_db.upgrade()
    return empty_db


@pytest.fixture
def store(db: Database) -> Store:
    return Store(db)
