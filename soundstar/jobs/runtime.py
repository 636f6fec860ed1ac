"""What every job worker needs from the settings: the database, a store, Aurora, an id."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from soundstar.aurora.pipeline import Aurora
from soundstar.config import Settings
from soundstar.store.database import Database, database_url
from soundstar.store.repository import Store

_WORKER_ID_MAX = 128
log = logging.getLogger(__name__)
AuroraFactory = Callable[[Settings], Aurora]


def default_aurora_factory(settings: Settings) -> Aurora:
    """Aurora from the configuration (importable by name, so spawned workers can use it)."""
    from soundstar.aurora.builders import build_aurora

    return build_aurora(settings)


def open_store(settings: Settings, url: str | None = None) -> Store:
    """A Store on `url` (default: the settings' database) with the configured attempts."""
    db = Database(url or database_url(settings))
    return Store(db, max_job_attempts=settings.jobs.max_attempts)


def local_pid(owner: str, kind: str) -> int | None:
    """The process id in a lease owner id of `kind` on this host, else None."""
    prefix = f"{kind}@{socket.gethostname()}:"
    if not owner.startswith(prefix):
        return None
    digits = owner[len(prefix) :].split("/", 1)[0]
    return int(digits) if digits.isdigit() else None


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def worker_id(kind: str, index: int | None = None) -> str:
    """A lease owner id naming the host and process, e.g. `celery@host:1234`."""
    suffix = f"/{index}" if index is not None else ""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}{suffix}"[-_WORKER_ID_MAX:]


def record_cache_counters(store: Store, owner: str, aurora: Aurora | None) -> None:
    """Publish this worker's cumulative Aurora cache counts for /metrics (best effort)."""
    stats = getattr(getattr(aurora, "cache", None), "stats", None)
    if not callable(stats):
        return
    try:
        counts = stats()
        store.counters.record(
            owner,
            {
                "aurora_cache_hits": float(counts.get("hits", 0)),
                "aurora_cache_misses": float(counts.get("misses", 0)),
            },
        )
    except Exception as exc:
        log.warning("could not record cache counters for %s: %s", owner, type(exc).__name__)
