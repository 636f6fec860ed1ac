"""Celery workers for real: a worker process on the local Redis completes a job, and a
job whose worker is killed with SIGKILL mid-render is run again and completes.

Each test uses its own queue name (also the Redis key prefix) and a SQLite file
in tmp_path; the keys are deleted afterwards. Skipped when Redis is absent.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from soundstar.config import Settings
from soundstar.jobs.celery_app import QUEUE_ENV, VISIBILITY_ENV, CeleryOptions, create_app
from soundstar.jobs.queue import CeleryQueue, build_queue
from soundstar.models import GenerationStatus
from soundstar.store import Store


@pytest.fixture
def celery_env(
    settings: Settings, redis_url: str, monkeypatch: pytest.MonkeyPatch, celery_queue_name: str
) -> dict[str, str]:
    """Environment for worker processes and this producer: the test's queue, short leases."""
    monkeypatch.setenv(VISIBILITY_ENV, "8")
    return {
        "SOUNDSTAR_DATABASE_URL": str(settings.database_url),
        "SOUNDSTAR_DATA_DIR": str(settings.data_dir),
        "SOUNDSTAR_REDIS_URL": redis_url,
        "SOUNDSTAR_JOBS__BROKER_URL": redis_url,
        "SOUNDSTAR_JOBS__LEASE_S": "5",
        QUEUE_ENV: celery_queue_name,
        VISIBILITY_ENV: "8",
    }


@pytest.fixture
def start_worker(
    celery_env: dict[str, str], start_celery_worker: Callable[[dict[str, str]], Any]
) -> Callable[[], Any]:
    """Start a Celery worker subprocess with `celery_env`; all are stopped after the test."""
    return lambda: start_celery_worker(celery_env)


def _producer(settings: Settings, store: Store, broker_url: str) -> CeleryQueue:
    jobs = settings.jobs.model_copy(update={"backend": "celery", "broker_url": broker_url})
    queue = build_queue(settings.model_copy(update={"jobs": jobs}), store)
    assert isinstance(queue, CeleryQueue)
    return queue


def _dead(pid: int, within_s: float = 10.0) -> bool:
    """Gone, or a zombie nobody reaped (its parent was killed too), within a few seconds.

    SIGKILL is delivered asynchronously: a process freeing a large heap can still read
    as running for a moment after the signal was sent.
    """
    deadline = time.monotonic() + within_s
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _wait(
    store: Store, user_id: int, job_id: str, done: Callable[[Any], bool], timeout_s: float
) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = store.jobs.get(job_id, user_id)
        if job is not None and done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not there after {timeout_s} s: {store.jobs.lookup(job_id)}")


def test_app_has_at_least_once_configuration(
    settings: Settings, celery_env: dict[str, str]
) -> None:
    app = create_app(settings)
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
    options = CeleryOptions.from_settings(settings)
    assert app.conf.broker_transport_options["visibility_timeout"] == 8.0
    assert app.conf.task_default_queue == options.queue == celery_env[QUEUE_ENV]
    assert "soundstar.jobs.run" in app.tasks


@pytest.mark.slow
def test_a_celery_worker_completes_a_job(
    settings: Settings,
    store: Store,
    user_id: int,
    enqueue_short: Callable[..., str],
    celery_env: dict[str, str],
    start_worker: Callable[[], Any],
) -> None:
    queue = _producer(settings, store, celery_env["SOUNDSTAR_JOBS__BROKER_URL"])
    queue.start()
    assert queue.describe()["broker_status"] == "ok"
    start_worker()
    job_id = enqueue_short()
    queue.submit(job_id)
    queue.submit(job_id)  # a duplicate delivery must not run it twice
    job = _wait(store, user_id, job_id, lambda j: j.status in ("completed", "failed"), 90)
    assert job.status is GenerationStatus.COMPLETED, job.error_message
    assert job.attempts == 1 and job.lease_owner is None
    assert job.files is not None and Path(job.files["audio"]).is_file()
    assert all(Path(p).is_file() for p in job.files["stems"].values())
    queue.stop()


@pytest.mark.slow
def test_a_job_whose_worker_is_sigkilled_runs_again_and_completes(
    settings: Settings,
    store: Store,
    user_id: int,
    enqueue_short: Callable[..., str],
    celery_env: dict[str, str],
    start_worker: Callable[[], Any],
) -> None:
    queue = _producer(settings, store, celery_env["SOUNDSTAR_JOBS__BROKER_URL"])
    first = start_worker()
    job_id = enqueue_short(duration_seconds=120)
    queue.submit(job_id)
    running = _wait(
        store,
        user_id,
        job_id,
        lambda j: j.status == "processing" and j.progress > 0 and j.lease_owner,
        90,
    )
    child_pid = int(running.lease_owner.rsplit(":", 1)[1])
    assert child_pid != first.pid, "the task runs in a prefork child"
    os.kill(child_pid, signal.SIGKILL)  # the process doing the work dies mid-render...
    os.killpg(first.pid, signal.SIGKILL)  # ...and so does its whole worker
    first.wait(10)
    assert _dead(child_pid)
    after_kill = store.jobs.get(job_id, user_id)
    assert after_kill is not None and after_kill.status is GenerationStatus.PROCESSING

    start_worker()  # a fresh worker: the sweep or the broker's redelivery brings the job back
    job = _wait(store, user_id, job_id, lambda j: j.status in ("completed", "failed"), 150)
    assert job.status is GenerationStatus.COMPLETED, job.error_message
    assert job.attempts == 2
    assert job.files is not None
    for path in [
        job.files["audio"],
        job.files["midi"],
        job.files["plan"],
        *job.files["stems"].values(),
    ]:
        assert Path(path).is_file() and Path(path).stat().st_size > 0
    assert job.result is not None and job.result.duration_seconds == pytest.approx(120, 0.05)
    generations = Path(settings.data_dir) / "generations"
    assert [p.name for p in generations.iterdir()] == [job_id]  # no half-written attempt left
    assert store.jobs.status_counts() == {"completed": 1}
