"""Engine, sessions and migrations for SQLite (default) or PostgreSQL.

SQLite connections get WAL, enforced foreign keys and a busy timeout so several
threads and processes can share one file; PostgreSQL is reached through psycopg 3
(`postgresql+psycopg://`). Alembic owns the schema: `upgrade()` runs it to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from soundstar.config import Settings
from soundstar.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x50554E44
SQLITE_BUSY_TIMEOUT_MS = 10_000
DEFAULT_DB_NAME = "soundstar.db"


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite database file (absolute, pysqlite driver)."""
    return f"sqlite+pysqlite:///{Path(path).expanduser().resolve()}"


def database_url(settings: Settings) -> str:
    """The one place that says where the database is: `settings.database_url`, else the
    SQLite file `<data_dir>/soundstar.db` (the server, workers and CLI all ask here)."""
    return settings.database_url or sqlite_url(Path(settings.data_dir) / DEFAULT_DB_NAME)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Database:
    """One database: an engine, a session factory and the migrations to bring it to head."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"invalid database URL {url!r}: {exc}", field="database_url") from exc
        self.url = parsed
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"unsupported database backend {backend!r}: use sqlite or postgresql+psycopg",
                field="database_url",
            )
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            )
            event.listen(self.engine, "connect", _on_sqlite_connect)
        else:
            self.engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        """An Alembic configuration built in code (no alembic.ini)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Run the migrations up to `revision`; a no-op when already there.

        The whole upgrade runs in one transaction under a lock (a PostgreSQL
        advisory lock, SQLite's write lock via BEGIN IMMEDIATE), so several
        processes may start at once: the first migrates, the others then find
        nothing to do.
        """
        cfg = self.alembic_config()
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            elif self.dialect == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def current_revision(self) -> str | None:
        """The revision the database is at, or None before the first migration."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def check_writable(self) -> None:
        """Raise what the database raises when it cannot take a write (read-only,
        unreachable): a no-op update of the migration table, rolled back."""
        with self.engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
