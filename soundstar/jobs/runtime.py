"""What every job worker needs from the settings: the database, a store, Aurora, an id."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.store.database import Database, database_url
from soundstar.store.repository import Store

_WORKER_ID_MAX = 128
AuroraFactory = Callable[[Settings], Aurora]


def default_aurora_factory(settings: Settings) -> Aurora:
    """Aurora from the configuration (importable by name, so spawned workers can use it)."""
    from soundstar.aurora.builders import build_aurora

    return build_aurora(settings)


def open_store(settings: Settings, url: str | None = None) -> Store:
    """A Store on `url` (default: the settings' database) with the configured attempts."""
    db = Database(url or database_url(settings))
    return Store(db, max_job_attempts=settings.jobs.max_attempts)


def worker_id(kind: str, index: int | None = None) -> str:
    """A lease owner id naming the host and process, e.g. `celery@host:1234`."""
    suffix = f"/{index}" if index is not None else ""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}{suffix}"[-_WORKER_ID_MAX:]
