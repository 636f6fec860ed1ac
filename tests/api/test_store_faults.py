"""A store that refuses writes or has no room answers 503 with a clear code, never a 500 or
a server path; reads with a valid key still work; /health names the failing component.

The read-only store is real: SQLite opened with `mode=ro`, PostgreSQL with
`default_transaction_read_only`, swapped in under the running app."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, OperationalError

from soundstar.api.auth import Authenticator
from soundstar.errors import ParameterError, StorageFullError, StorageUnavailableError
from soundstar.store import Database, Store
from soundstar.store.faults import storage_fault
from tests.api.conftest import Api


def _read_only_url(api: Api) -> str:
    url = api.store.db.url
    if api.backend == "sqlite":
        return f"sqlite+pysqlite:///file:{url.database}?mode=ro&uri=true"
    options = url.query.get("options", "")
    return url.update_query_dict(
        {"options": f"{options} -cdefault_transaction_read_only=on".strip()}
    ).render_as_string(hide_password=False)


@pytest.fixture
def read_only(api: Api) -> Iterator[Api]:
    """The running app with its store (and the authenticator's) swapped for a read-only one."""
    state = api.client.app.state.soundstar  # type: ignore[attr-defined]
    original_store, original_auth = state.store, state.auth
    store = Store(Database(_read_only_url(api)))
    state.store, state.auth = store, Authenticator(store, ttl_s=0)
    try:
        yield api
    finally:
        state.store, state.auth = original_store, original_auth
        store.db.dispose()


def test_reads_still_work_on_a_read_only_store(read_only: Api) -> None:
    response = read_only.client.get("/api/v1/aurora/history", headers=read_only.alice)
    assert response.status_code == 200, response.text
    assert read_only.client.get("/api/v1/me", headers=read_only.bob).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/aurora/parse", {"prompt": "a calm piano piece at night"}),
        ("/api/v1/aurora/generate", {"prompt": "a calm piano piece at night"}),
        ("/api/v1/aurora/enhance", {"prompt": "a calm piano piece at night"}),
    ],
)
def test_writes_to_a_read_only_store_are_503_storage_unavailable(
    read_only: Api, path: str, body: dict[str, Any]
) -> None:
    response = read_only.client.post(path, json=body, headers=read_only.alice)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "STORAGE_UNAVAILABLE"
    assert "/" not in error["message"] and "sql" not in error["message"].lower()
    assert response.headers["Retry-After"]


def test_health_says_the_database_refuses_writes(read_only: Api) -> None:
    response = read_only.client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["status"] == "storage_unavailable"
    assert body["disk"]["status"] == "ok"


def test_health_is_ok_and_per_component_when_all_is_well(api: Api) -> None:
    body = api.client.get("/health").json()
    assert body["status"] == "ok"
    assert {body[c]["status"] for c in ("database", "disk", "queue")} == {"ok"}
    assert body["queue"]["alive"] >= 1


def test_health_says_the_disk_is_full_below_the_free_space_floor(api: Api) -> None:
    settings = api.settings.api
    floor = settings.min_free_disk_mb
    settings.min_free_disk_mb = 1 << 40
    try:
        response = api.client.get("/health")
    finally:
        settings.min_free_disk_mb = floor
    assert response.status_code == 503
    assert response.json()["disk"]["status"] == "full"


def test_health_is_503_without_a_live_worker(api: Api) -> None:
    queue = api.client.app.state.soundstar.queue  # type: ignore[attr-defined]
    members = queue._members
    queue._members = []
    try:
        response = api.client.get("/health")
    finally:
        queue._members = members
    assert response.status_code == 503
    assert response.json()["queue"]["status"] == "unavailable"


def _db_error(cls: type[Exception], text: str) -> Exception:
    return cls("UPDATE x", {}, sqlite3.OperationalError(text))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/srv/data/x.wav"), StorageFullError),
        (OSError(errno.EROFS, "Read-only file system"), StorageUnavailableError),
        (_db_error(OperationalError, "database or disk is full"), StorageFullError),
        (
            _db_error(OperationalError, "attempt to write a readonly database"),
            StorageUnavailableError,
        ),
        (_db_error(OperationalError, "unable to open database file"), StorageUnavailableError),
        (
            _db_error(DataError, "A string literal cannot contain NUL (0x00) characters."),
            ParameterError,
        ),
    ],
)
def test_storage_faults_map_to_clear_errors_without_paths(
    exc: Exception, expected: type[Exception]
) -> None:
    fault = storage_fault(exc)
    assert isinstance(fault, expected)
    assert "/" not in fault.message


def test_other_errors_are_not_storage_faults() -> None:
    assert storage_fault(ValueError("x")) is None
    assert storage_fault(OSError(errno.ECONNRESET, "reset")) is None


def test_read_only_url_is_really_read_only(api: Api) -> None:
    db = Database(_read_only_url(api))
    try:
        with pytest.raises(OperationalError if api.backend == "sqlite" else Exception):
            db.check_writable()
    finally:
        db.dispose()
    assert make_url(_read_only_url(api)).get_backend_name() == api.backend


def test_a_data_dir_that_cannot_be_written_is_one_line_at_start(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, "SOUNDSTAR_DATA_DIR": str(blocker / "data")}
    env.pop("SOUNDSTAR_DATABASE_URL", None)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "soundstar"), "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    errors = [line for line in run.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "STORAGE_UNAVAILABLE" in errors[0], run.stderr
    assert "Traceback" not in run.stderr
