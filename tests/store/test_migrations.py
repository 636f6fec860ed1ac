"""Alembic owns the schema: upgrade from empty to head, idempotent, matching the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from soundstar.store import Database, sqlite_url
from soundstar.store.tables import Base

TABLES = {
    "users",
    "api_keys",
    "aurora_sessions",
    "aurora_suggestions",
    "refinements",
    "generation_results",
    "user_feedback",
    "rate_buckets",
    "worker_counters",
}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_creates_every_table_and_is_idempotent(empty_db: Database) -> None:
    assert _tables(empty_db) == set()
    assert empty_db.current_revision() is None
    empty_db.upgrade()
    assert _tables(empty_db) == TABLES | {"alembic_version"}
    assert empty_db.current_revision() == "0002"
    empty_db.upgrade()
    assert empty_db.current_revision() == "0002"
    assert _tables(empty_db) == TABLES | {"alembic_version"}


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_spec_indexes_exist(db: Database) -> None:
    insp = inspect(db.engine)
    sessions = {tuple(ix["column_names"]) for ix in insp.get_indexes("aurora_sessions")}
    assert {("user_id",), ("status",), ("user_id", "created_at")} <= sessions
    suggestions = {tuple(ix["column_names"]) for ix in insp.get_indexes("aurora_suggestions")}
    assert ("session_id",) in suggestions
    jobs = {tuple(ix["column_names"]) for ix in insp.get_indexes("generation_results")}
    assert {("user_id", "created_at"), ("status", "created_at")} <= jobs


def test_downgrade_to_base_removes_the_tables(db: Database) -> None:
    from alembic import command

    cfg = db.alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert _tables(db) <= {"alembic_version"}


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "nested" / "w.db"))
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert (conn.execute(text("PRAGMA busy_timeout")).scalar() or 0) >= 1000
        assert (tmp_path / "nested" / "w.db").exists()
    finally:
        db.dispose()


def test_sqlite_url_is_absolute(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "a.db")
    assert url.startswith("sqlite+pysqlite:////")
    assert url.endswith("/a.db")


def test_unsupported_or_malformed_url_is_a_config_error() -> None:
    import pytest

    from soundstar.errors import ConfigError

    with pytest.raises(ConfigError, match="unsupported database backend"):
        Database("mysql://u@localhost/x")
    with pytest.raises(ConfigError, match="invalid database URL"):
        Database("not a url")


def test_session_rolls_back_the_whole_unit_of_work_on_error(db: Database) -> None:
    import pytest
    from sqlalchemy import func, select
    from sqlalchemy.exc import IntegrityError

    from soundstar.store.tables import ApiKey, User

    with pytest.raises(IntegrityError), db.session() as s:
        s.add(User(name="ann"))
        s.flush()
        s.add(ApiKey(user_id=424242, prefix="ss_x", key_hash="0" * 64))
        s.flush()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
        assert s.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_concurrent_upgrades_from_empty_all_succeed(empty_db: Database) -> None:
    import threading

    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            empty_db.upgrade()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert empty_db.current_revision() == "0002"
