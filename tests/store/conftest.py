"""Fixtures: every store test runs on a SQLite file in tmp_path and on PostgreSQL.

The PostgreSQL variant uses the `test` database at 127.0.0.1:5432 (user
postgres) with a fresh schema per test, dropped afterwards; it is skipped,
with the reason, when that server cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from soundstar.store import Database, Store, sqlite_url

PG_URL = os.environ.get(
    "SOUNDSTAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_conninfo() -> str:
    url = make_url(PG_URL)
    return (
        f"host={url.host} port={url.port or 5432} dbname={url.database} "
        f"user={url.username} connect_timeout=2"
        + (f" password={url.password}" if url.password else "")
    )


def _pg_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(_pg_conninfo()):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {make_url(PG_URL).render_as_string()} unreachable: {exc}"


_PG_SKIP: list[str | None] = []


def pg_skip_reason() -> str | None:
    if not _PG_SKIP:
        _PG_SKIP.append(_pg_unreachable_reason())
    return _PG_SKIP[0]


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped after the test."""
    reason = pg_skip_reason()
    if reason:
        pytest.skip(reason)
    schema = f"soundstar_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


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
