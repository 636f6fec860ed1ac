"""Chaos: Redis, the server and workers are killed at chosen moments, and every accepted
generation still completes exactly once with its files, and nothing stays queued or
processing. A job is either refused (503, no row) or accepted and run.

Run alone with `pytest -m chaos tests/chaos`. Loopback only; Redis is our own
redis-server without persistence on a free port (a restart loses every message).
Bounded: jobs are 5 s of audio at 22.05 kHz without stems; leases are 5 s.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from soundstar.config import load_settings
from soundstar.jobs.runtime import open_store
from soundstar.store import Store
from tests.chaos.conftest import Cluster, OwnRedis, make_cluster, pid_gone, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
SETTLE_S = 150


def _store(cluster: Cluster) -> Store:
    return open_store(load_settings(data_dir=Path(cluster.env["SOUNDSTAR_DATA_DIR"])))


def _assert_each_completed_once(cluster: Cluster, accepted: list[str]) -> dict[str, int]:
    """Every accepted job completed with its files; no other job, none left behind."""
    store = _store(cluster)
    try:

        def settled() -> bool:
            counts = store.jobs.status_counts()
            return not counts.get("queued") and not counts.get("processing")

        wait_until(settled, SETTLE_S, f"jobs settling {store.jobs.status_counts()}", 0.5)
        counts = store.jobs.status_counts()
        assert counts == {"completed": len(accepted)}, (counts, cluster.tail())
        for job_id in accepted:
            job = store.jobs.lookup(job_id)
            assert job is not None and job.status == "completed" and job.lease_owner is None
            assert job.files is not None
            for kind in ("audio", "midi", "plan"):
                assert Path(job.files[kind]).is_file(), (job_id, kind)
        generations = Path(cluster.env["SOUNDSTAR_DATA_DIR"]) / "generations"
        assert sorted(p.name for p in generations.iterdir()) == sorted(accepted)
        return counts
    finally:
        store.db.dispose()


def _accepted(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "queued"
    return str(body["generation_id"])


def test_celery_jobs_survive_redis_down_at_submit_a_restart_without_data_and_killed_processes(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    cluster = make_cluster(
        tmp_path,
        SOUNDSTAR_JOBS__BACKEND="celery",
        SOUNDSTAR_JOBS__BROKER_URL=own_redis.url,
    )
    try:
        cluster.start_server(healthy=False)  # no worker yet: /health says so (503)
        assert httpx.get(cluster.url + "/health").json()["queue"]["status"] == "no_workers"
        with cluster.client() as client:
            accepted = [_accepted(cluster.submit(client)) for _ in range(2)]

            own_redis.kill()  # Redis down at submit: refused, and no row is left
            refused = cluster.submit(client)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "QUEUE_UNAVAILABLE"
            health = httpx.get(cluster.url + "/health", timeout=10)
            assert health.status_code == 503 and health.json()["queue"]["status"] != "ok"

            own_redis.start()  # back, empty: the two accepted messages are gone
            accepted.append(_accepted(cluster.submit(client)))
            assert cluster.server is not None
            cluster.server.send_signal(signal.SIGKILL)  # the server dies too; a new one relays
            cluster.server.wait(10)
            cluster.start_server(healthy=False)
            store = _store(cluster)
            assert sum(store.jobs.status_counts().values()) == len(accepted)
            worker = cluster.start_worker()

            def rendering() -> str | None:
                for job_id in accepted:
                    job = store.jobs.lookup(job_id)
                    if job is not None and job.status == "processing" and job.lease_owner:
                        return job.lease_owner
                return None

            wait_until(rendering, 90, "a job rendering")
            os.killpg(worker.pid, signal.SIGKILL)  # the worker dies mid-render
            worker.wait(10)
            store.db.dispose()
            cluster.start_worker()
            counts = _assert_each_completed_once(cluster, accepted)
            health = httpx.get(cluster.url + "/health", timeout=10).json()
            assert health["queue"]["status"] == "ok" and health["queue"]["workers"] >= 1
    finally:
        cluster.stop()
    print(f"\nchaos celery: submitted 4, refused 1, accepted 3, completed {counts}, lost 0")


def test_embedded_workers_die_with_a_killed_server_and_their_jobs_complete_after_restart(
    tmp_path: Path,
) -> None:
    cluster = make_cluster(tmp_path, SOUNDSTAR_JOBS__BACKEND="embedded")
    try:
        server = cluster.start_server()
        with cluster.client() as client:
            accepted = [_accepted(cluster.submit(client)) for _ in range(3)]
        store = _store(cluster)

        def held() -> str | None:
            owners = [owner for _, owner in store.jobs.held()]
            return owners[0] if owners else None

        owner = wait_until(held, 90, "a job rendering")
        worker_pid = int(owner.split(":", 1)[1].split("/", 1)[0])
        server.send_signal(signal.SIGKILL)  # no clean-up runs
        server.wait(10)
        wait_until(lambda: pid_gone(worker_pid), 5, f"pool worker {worker_pid} exiting")
        assert store.jobs.status_counts().get("processing") == 1
        store.db.dispose()

        start = time.monotonic()
        cluster.start_server()  # reaps the dead worker's job at once, not a lease later
        counts = _assert_each_completed_once(cluster, accepted)
        elapsed = time.monotonic() - start
    finally:
        cluster.stop()
    print(
        f"\nchaos embedded: submitted 3, accepted 3, completed {counts}, lost 0 "
        f"({elapsed:.1f} s after restart)"
    )
