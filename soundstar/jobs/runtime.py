"""What every job worker needs from the settings: the database, a store, an id."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from soundstar.config import Settings
from soundstar.store.database import Database, sqlite_url
from soundstar.store.repository import Store

DEFAULT_DB_NAME = "soundstar.db"
_WORKER_ID_MAX = 128


def database_url(settings: Settings) -> str:
    """`settings.database_url`, else the SQLite file `<data_dir>/soundstar.db`."""
    return settings.database_url or sqlite_url(Path(settings.data_dir) / DEFAULT_DB_NAME)


def open_store(settings: Settings, url: str | None = None) -> Store:
    """A Store on `url` (default: the settings' database) with the configured attempts."""
    db = Database(url or database_url(settings))
    return Store(db, max_job_attempts=settings.jobs.max_attempts)


def worker_id(kind: str, index: int | None = None) -> str:
    """A lease owner id naming the host and process, e.g. `celery@host:1234`."""
    suffix = f"/{index}" if index is not None else ""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}{suffix}"[-_WORKER_ID_MAX:]
