"""The embedded pool: processes (and threads) claiming jobs from the table."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from soundstar.config import Settings
from soundstar.jobs.queue import EmbeddedQueue, JobQueue, PoolMode, build_queue
from soundstar.models import GenerationStatus
from soundstar.store import Store


def _wait_finished(store: Store, user_id: int, job_ids: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        jobs = [store.jobs.get(j, user_id) for j in job_ids]
        if all(j is not None and j.status in ("completed", "failed") for j in jobs):
            return
        time.sleep(0.1)
    raise AssertionError(f"jobs not finished after {timeout_s} s: {store.jobs.status_counts()}")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["process", "thread"])
def test_pool_runs_ten_concurrent_jobs_to_completion(
    mode: PoolMode,
    store: Store,
    settings: Settings,
    user_id: int,
    enqueue_short: Callable[..., str],
) -> None:
    queue = EmbeddedQueue(store, settings, mode=mode, workers=2)
    assert isinstance(queue, JobQueue)
    queue.start()
    try:
        job_ids = []
        for i in range(10):
            job_ids.append(enqueue_short(seed=i, stems=i % 2 == 0))
            queue.submit(job_ids[-1])
        _wait_finished(store, user_id, job_ids, timeout_s=120)
        described = queue.describe()
    finally:
        queue.stop()
    owners = set()
    for job_id in job_ids:
        job = store.jobs.get(job_id, user_id)
        assert job is not None and job.status is GenerationStatus.COMPLETED, job
        assert job.attempts == 1 and job.files is not None
        assert Path(job.files["audio"]).is_file()
        assert job.result is not None
        owners.add(job.result.id)
    assert len(owners) == 10
    assert described["backend"] == "embedded" and described["mode"] == mode
    assert described["workers"] == 2 and described["alive"] == 2
    assert described["jobs"] == {"completed": 10}


@pytest.mark.slow
def test_start_requeues_expired_leases_and_runs_them(
    store: Store, settings: Settings, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    job_id = enqueue_short()
    assert store.jobs.claim("a-worker-that-died", lease_s=0.01) is not None
    time.sleep(0.05)
    queue = EmbeddedQueue(store, settings, mode="process", workers=1)
    queue.start()
    try:
        assert queue.requeued_on_start == [job_id]
        _wait_finished(store, user_id, [job_id], timeout_s=60)
    finally:
        queue.stop()
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.COMPLETED
    assert job.attempts == 2 and job.lease_owner is None


@pytest.mark.slow
def test_a_killed_pool_process_is_replaced_and_its_job_completes(
    tmp_path: Path, store: Store, user_id: int, enqueue_short: Callable[..., str]
) -> None:
    import os
    import signal

    from soundstar.config import JobsConfig

    settings = store_settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "database_url": store.db.url.render_as_string(hide_password=False),
            "jobs": JobsConfig(lease_s=5.0, workers=1),
        }
    )
    queue = EmbeddedQueue(store, store_settings, mode="process", workers=1)
    queue.start()
    try:
        job_id = enqueue_short(duration_seconds=120)
        queue.submit(job_id)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = store.jobs.get(job_id, user_id)
            if job is not None and job.status is GenerationStatus.PROCESSING and job.progress > 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("job never started")
        (pid,) = queue.pids()
        os.kill(pid, signal.SIGKILL)
        _wait_finished(store, user_id, [job_id], timeout_s=90)
        assert queue.restarts >= 1
    finally:
        queue.stop()
    job = store.jobs.get(job_id, user_id)
    assert job is not None and job.status is GenerationStatus.COMPLETED, job.error_message
    assert job.attempts == 2
    assert job.files is not None and Path(job.files["audio"]).is_file()
    assert settings.jobs.lease_s == 5.0


def test_build_queue_follows_the_backend_setting(store: Store, settings: Settings) -> None:
    embedded = build_queue(settings, store)
    assert isinstance(embedded, EmbeddedQueue) and embedded.workers == 2
    with pytest.raises(Exception, match="not started"):
        embedded.submit("x")


def test_owner_ids_name_a_local_process_that_can_be_checked() -> None:
    import os
    import socket

    from soundstar.jobs.runtime import local_pid, process_alive, worker_id

    mine = worker_id("embedded", 0)
    assert local_pid(mine, "embedded") == os.getpid() and process_alive(os.getpid())
    assert local_pid(mine, "celery") is None
    assert local_pid(f"embedded@not-{socket.gethostname()}:12/0", "embedded") is None
    assert not process_alive(2**22 + 12345)
