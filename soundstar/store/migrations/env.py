"""Alembic environment, driven from code: `Database.upgrade()` hands over a live connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from soundstar.store.tables import Base


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "soundstar migrations run through soundstar.store.Database.upgrade(), "
            "which supplies the connection; there is no alembic.ini"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
