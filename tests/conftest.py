"""Fixtures every test directory shares: fresh PostgreSQL schemas, Redis, Celery workers.

The PostgreSQL fixtures use the `test` database at 127.0.0.1:5432 (user
postgres; override with SOUNDSTAR_TEST_POSTGRES_URL) with a new schema per
test (or per module), dropped afterwards; they skip, with the reason, when that
server cannot be reached. The Celery fixtures use the Redis at 127.0.0.1:6379
(override with SOUNDSTAR_TEST_REDIS_URL) and skip likewise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "SOUNDSTAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SOUNDSTAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY = str(Path(sys.executable).with_name("celery"))
QUEUE_ENV = "SOUNDSTAR_CELERY_QUEUE"


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


def _redis_unreachable_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable ({type(exc).__name__}: {exc})"


_SKIPS: dict[str, str | None] = {}


def pg_skip_reason() -> str | None:
    if "pg" not in _SKIPS:
        _SKIPS["pg"] = _pg_unreachable_reason()
    return _SKIPS["pg"]


def redis_skip_reason() -> str | None:
    if "redis" not in _SKIPS:
        _SKIPS["redis"] = _redis_unreachable_reason()
    return _SKIPS["redis"]


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped on exit; skips if PG is absent."""
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


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped after the test."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_schema_url() -> Iterator[str]:
    """Like `pg_schema_url`, shared by a module's tests (for module-scoped apps)."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    """The test Redis URL; skips, with the reason, when Redis does not answer."""
    reason = redis_skip_reason()
    if reason:
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def celery_queue_name(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A unique Celery queue (also the Redis key prefix) set for this process; keys deleted after.

    Unique per test so a worker left over from another run can never take its jobs.
    """
    import redis

    name = f"soundstar-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(QUEUE_ENV, name)
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


StartWorker = Callable[[Mapping[str, str]], "subprocess.Popen[bytes]"]


@pytest.fixture
def start_celery_worker(tmp_path: Path, celery_queue_name: str) -> Iterator[StartWorker]:
    """Start `celery -A soundstar.jobs.celery_app worker` processes (prefork, one child each)
    on this test's queue with the given SOUNDSTAR_* environment; all stopped after the test.
    Each worker logs to tmp_path/worker-N.log."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        index = len(started)
        log = open(tmp_path / f"worker-{index}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "soundstar.jobs.celery_app",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{index}-{celery_queue_name}@%h",
                f"--queues={celery_queue_name}",
            ],
            env={**os.environ, **env, QUEUE_ENV: celery_queue_name},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture(autouse=True, scope="session")
def _session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled caches (the knowledge base, one per data copy a test loads) go to a directory
    of this session, in this process and the ones it starts, not the user's cache."""
    previous = os.environ.get("SOUNDSTAR_CACHE_DIR")
    os.environ["SOUNDSTAR_CACHE_DIR"] = str(tmp_path_factory.mktemp("soundstar-cache"))
    yield
    if previous is None:
        os.environ.pop("SOUNDSTAR_CACHE_DIR", None)
    else:
        os.environ["SOUNDSTAR_CACHE_DIR"] = previous
