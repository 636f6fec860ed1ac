"""Fixtures every test directory shares: a fresh PostgreSQL schema per test.

The PostgreSQL fixtures use the `test` database at 127.0.0.1:5432 (user
postgres; override with SOUNDSTAR_TEST_POSTGRES_URL) with a new schema per
test, dropped afterwards; they skip, with the reason, when that server cannot
be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

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
