"""Persistence: SQLAlchemy tables, Alembic migrations and typed repositories.

db = Database(sqlite_url("soundstar.db")); db.upgrade(); store = Store(db)
"""

from soundstar.store.database import Database, sqlite_url
from soundstar.store.repository import Store

__all__ = ["Database", "Store", "sqlite_url"]
