"""Generate throughput: tracks per minute through the embedded pool and two Celery workers.

For each backend: a burst of N (default 12) 30 s generations at 44.1 kHz, timed
from the first submit to the last completion, and a burst of 50 short jobs that
must all complete (none lost, none failed). While the embedded pool renders,
a thread in the "server" process measures its scheduling lag (sleep 10 ms,
see how late it wakes): that is what the pool costs every request's latency,
and it is why the pool uses processes (threads are measured for comparison).

    .venv/bin/python -m benchmarks.generate_throughput [--tracks 12] [--short 50]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import write_results
from soundstar.config import JobsConfig, Settings, load_settings
from soundstar.jobs.celery_app import QUEUE_ENV
from soundstar.jobs.queue import CeleryQueue, EmbeddedQueue, JobQueue, PoolMode
from soundstar.jobs.request import JobRequest
from soundstar.jobs.runtime import open_store
from soundstar.store import Store, sqlite_url

REDIS_URL = os.environ.get("SOUNDSTAR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PROMPTS = (
    "an upbeat 80s synthwave track with drums and bass",
    "a calm lofi hip hop beat with piano",
    "an energetic rock song with electric guitar",
    "a dreamy ambient piece with pads",
)
LAG_SLEEP_S = 0.01


class LagProbe:
    """Measures how late a sleeping thread of this process wakes up (ms)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            time.sleep(LAG_SLEEP_S)
            self.samples.append((time.perf_counter() - start - LAG_SLEEP_S) * 1000)

    def __enter__(self) -> LagProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.samples) or [0.0]
        return {
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "max_ms": round(ordered[-1], 2),
        }


def _settings(root: Path, backend: str) -> Settings:
    return load_settings(
        data_dir=root / "data",
        database_url=sqlite_url(root / "bench.db"),
        redis_url=REDIS_URL,
        jobs=JobsConfig(backend=backend, workers=2, lease_s=60.0, broker_url=REDIS_URL),
    )


def _burst(
    store: Store, queue: JobQueue, user_id: int, count: int, request: dict[str, Any]
) -> dict[str, Any]:
    """Enqueue and submit `count` jobs at once; wait for all; report timing and losses."""
    start = time.perf_counter()
    ids = []
    for i in range(count):
        body = JobRequest.model_validate(
            {**request, "prompt": PROMPTS[i % len(PROMPTS)], "seed": i}
        )
        ids.append(store.jobs.enqueue(user_id, body.to_json()))
        queue.submit(ids[-1])
    deadline = start + max(600.0, count * 30.0)
    statuses: dict[str, str] = {}
    while time.perf_counter() < deadline:
        jobs = [store.jobs.get(j, user_id) for j in ids]
        statuses = {j.id: j.status.value for j in jobs if j is not None}
        if all(s in ("completed", "failed") for s in statuses.values()) and len(statuses) == count:
            break
        time.sleep(0.1)
    wall = time.perf_counter() - start
    jobs = [store.jobs.get(j, user_id) for j in ids]
    completed = [j for j in jobs if j is not None and j.status.value == "completed"]
    return {
        "jobs": count,
        "completed": len(completed),
        "failed": sum(1 for s in statuses.values() if s == "failed"),
        "lost": count - len(completed) - sum(1 for s in statuses.values() if s == "failed"),
        "retried": sum(1 for j in completed if j.attempts > 1),
        "wall_s": round(wall, 2),
        "tracks_per_minute": round(len(completed) / wall * 60, 2),
        "mean_render_ms": round(statistics.mean(j.total_time_ms or 0 for j in completed), 1)
        if completed
        else None,
    }


def _warm(store: Store, queue: JobQueue, user_id: int) -> None:
    _burst(store, queue, user_id, 4, {"prompt": "x", "duration_seconds": 5, "sample_rate": 22050})


def run_embedded(
    root: Path, mode: PoolMode, tracks: int, short: int, track: dict[str, Any]
) -> dict[str, Any]:
    settings = _settings(root, "embedded")
    store = open_store(settings)
    store.db.upgrade()
    user_id = store.users.create(f"bench-{mode}").id
    queue = EmbeddedQueue(store, settings, mode=mode, workers=2)
    queue.start()
    try:
        _warm(store, queue, user_id)
        with LagProbe() as probe:
            burst = _burst(store, queue, user_id, tracks, track)
        result = {"workers": 2, "mode": mode, "burst": burst, "server_lag": probe.summary()}
        if short:
            result["short_burst"] = _burst(
                store,
                queue,
                user_id,
                short,
                {"prompt": "x", "duration_seconds": 5, "sample_rate": 22050, "stems": False},
            )
        return result
    finally:
        queue.stop()
        store.db.dispose()


def _start_celery_worker(settings: Settings, queue_name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SOUNDSTAR_DATABASE_URL": str(settings.database_url),
        "SOUNDSTAR_DATA_DIR": str(settings.data_dir),
        "SOUNDSTAR_REDIS_URL": REDIS_URL,
        "SOUNDSTAR_JOBS__LEASE_S": str(settings.jobs.lease_s),
        QUEUE_ENV: queue_name,
    }
    celery = str(Path(sys.executable).with_name("celery"))
    return subprocess.Popen(
        [celery, "-A", "soundstar.jobs.celery_app", "worker", "--pool=prefork",
         "--concurrency=1", "--loglevel=warning", "--without-gossip", "--without-mingle",
         f"--queues={queue_name}", f"--hostname=bench-{log.stem}@%h"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def run_celery(root: Path, tracks: int, short: int, track: dict[str, Any]) -> dict[str, Any]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return {"skipped": f"Redis at {REDIS_URL} unreachable: {exc}"}
    queue_name = f"soundstar-bench-{uuid.uuid4().hex[:8]}"
    os.environ[QUEUE_ENV] = queue_name
    settings = _settings(root, "celery")
    store = open_store(settings)
    store.db.upgrade()
    user_id = store.users.create("bench-celery").id
    queue = CeleryQueue(settings, store=store)
    workers = [_start_celery_worker(settings, queue_name, root / f"w{i}.log") for i in range(2)]
    try:
        queue.start()
        _warm(store, queue, user_id)
        result: dict[str, Any] = {"workers": 2, "concurrency_each": 1}
        result["burst"] = _burst(store, queue, user_id, tracks, track)
        if short:
            result["short_burst"] = _burst(
                store,
                queue,
                user_id,
                short,
                {"prompt": "x", "duration_seconds": 5, "sample_rate": 22050, "stems": False},
            )
        return result
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        queue.stop()
        store.db.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{queue_name}:*"))
        if keys:
            client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=12, help="30 s tracks per burst")
    parser.add_argument("--short", type=int, default=50, help="short jobs in the loss check")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    args = parser.parse_args()
    track = {"prompt": "x", "duration_seconds": args.duration, "sample_rate": args.sample_rate}
    results: dict[str, Any] = {
        "track": {**track, "prompt": "four prompts in rotation", "stems": True},
        "load_average_at_start": os.getloadavg(),
        "note": "shared 2-core machine; other work was running, so figures are noisy",
    }
    with tempfile.TemporaryDirectory(prefix="soundstar-bench-") as tmp:
        root = Path(tmp)
        for name, mode, short in (("embedded_process", "process", args.short),
                                  ("embedded_thread", "thread", 0)):  # fmt: skip
            print(f"embedded pool ({mode})…", flush=True)
            results[name] = run_embedded(root / name, mode, args.tracks, short, track)  # type: ignore[arg-type]
            print(results[name], flush=True)
        print("two celery workers…", flush=True)
        results["celery_two_workers"] = run_celery(root / "celery", args.tracks, args.short, track)
        print(results["celery_two_workers"], flush=True)
    path = write_results("generate_throughput", results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
