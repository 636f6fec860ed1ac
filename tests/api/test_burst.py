"""A burst of 50 concurrent generate requests over real HTTP all complete: none lost, none
failed, every file downloads — with the embedded pool, and with two Celery workers.

The app runs under uvicorn on a loopback port in this process; 50 client threads post at
once (released together by a barrier), then poll each generation's status until it ends.
Tracks are 5 s at 22 050 Hz without stems, so a burst takes well under a minute on 2 cores.
The embedded pool runs on the default SQLite file; the Celery workers share a PostgreSQL
schema with the server (the multi-machine deployment), on a queue unique to the test.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf
import uvicorn
from fastapi import FastAPI

from soundstar.api.app import create_app
from soundstar.config import Settings
from soundstar.store import Store

BURST = 50
DURATION_S = 5.0
RATE = 22050
PROMPTS = (
    "an upbeat 80s synthwave track with drums and bass",
    "a calm lofi hip hop beat with warm piano",
    "an energetic rock song with electric guitar",
    "a dreamy ambient piece with soft pads",
    "a bright funk groove with slap bass",
)
FINISH_TIMEOUT_S = 240.0
RAN = re.compile(r"Task soundstar\.jobs\.run\[[^\]]+\] succeeded in [0-9.]+s: 'ran'")


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    """Two job workers, no rate limit in the way of the burst, no Redis cache."""
    settings = Settings(data_dir=data_dir, database_url=database_url, redis_url=None)
    settings.jobs.workers = 2
    settings.api.rate_limit_burst = 10_000
    settings.api.rate_limit_per_minute = 600_000
    return settings


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` (lifespan included) under uvicorn on a free loopback port; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise AssertionError("the server did not start (see the log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def _user_token(app: FastAPI, name: str) -> str:
    store: Store = app.state.soundstar.store
    return store.api_keys.create(store.users.create(name).id).token


def _post_all(client: httpx.Client) -> list[httpx.Response]:
    """BURST generate requests from BURST threads, released at the same instant."""
    gate = threading.Barrier(BURST)

    def post(i: int) -> httpx.Response:
        body = {
            "prompt": f"{PROMPTS[i % len(PROMPTS)]}, take {i}",
            "options": {
                "duration_seconds": DURATION_S,
                "sample_rate": RATE,
                "stems": False,
                "seed": i,
            },
        }
        gate.wait(timeout=30)
        return client.post("/api/v1/aurora/generate", json=body)

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(post, range(BURST)))


def _wait_all(client: httpx.Client, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Poll every unfinished generation until all have ended (or the timeout passes)."""
    finals: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while len(finals) < len(ids) and time.monotonic() < deadline:
        for gid in ids:
            if gid in finals:
                continue
            response = client.get(f"/api/v1/generations/{gid}")
            assert response.status_code == 200, (gid, response.text)
            body = response.json()
            if body["status"] in ("completed", "failed"):
                finals[gid] = body
        time.sleep(0.5)
    return finals


def _check_audio(client: httpx.Client, generation: dict[str, Any]) -> None:
    response = client.get(generation["audio_url"])
    assert response.status_code == 200, (generation["generation_id"], response.text)
    data, rate = sf.read(io.BytesIO(response.content))
    assert rate == RATE and abs(len(data) / rate - DURATION_S) < 0.1


def run_burst(app: FastAPI, name: str, expect_queue: dict[str, Any]) -> dict[str, float]:
    """Serve `app`, post the burst as a fresh user, wait, check every result; returns timings."""
    with serve(app) as url:
        queue = httpx.get(f"{url}/health").json()["queue"]
        assert queue.items() >= expect_queue.items(), queue
        token = _user_token(app, name)
        auth = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=BURST)
        with httpx.Client(base_url=url, headers=auth, timeout=60, limits=limits) as client:
            start = time.perf_counter()
            responses = _post_all(client)
            accepted_s = time.perf_counter() - start
            assert [r.status_code for r in responses] == [200] * BURST, [
                r.text for r in responses if r.status_code != 200
            ]
            ids = [r.json()["generation_id"] for r in responses]
            assert len(set(ids)) == BURST, "every request got its own generation"
            finals = _wait_all(client, ids)
            done_s = time.perf_counter() - start
            lost = [gid for gid in ids if gid not in finals]
            assert not lost, f"{len(lost)} of {BURST} never finished: {lost[:5]}"
            failed = {g: f.get("error") for g, f in finals.items() if f["status"] != "completed"}
            assert not failed, f"{len(failed)} failed: {failed}"
            for generation in finals.values():
                _check_audio(client, generation)
            history = client.get("/api/v1/aurora/history?limit=100").json()
            assert history["total_count"] == BURST
            assert {i["id"] for i in history["items"]} == set(ids)
            assert {i["status"] for i in history["items"]} == {"completed"}
        store: Store = app.state.soundstar.store
        assert store.jobs.status_counts() == {"completed": BURST}
    return {"accepted_s": accepted_s, "done_s": done_s}


@pytest.mark.slow
def test_a_burst_of_50_completes_with_the_embedded_pool(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data"))
    timings = run_burst(app, "burst-embedded", expect_queue={"backend": "embedded", "alive": 2})
    print(f"embedded pool, 2 workers: {timings}")


@pytest.mark.slow
def test_a_burst_of_50_completes_with_two_celery_workers(
    tmp_path: Path,
    pg_schema_url: str,
    redis_url: str,
    start_celery_worker: Callable[[dict[str, str]], Any],
) -> None:
    settings = make_settings(tmp_path / "data", database_url=pg_schema_url)
    settings.jobs.backend = "celery"
    settings.jobs.broker_url = redis_url
    app = create_app(settings)
    worker_env = {
        "SOUNDSTAR_DATABASE_URL": pg_schema_url,
        "SOUNDSTAR_DATA_DIR": str(settings.data_dir),
        "SOUNDSTAR_JOBS__BROKER_URL": redis_url,
    }
    app.state.soundstar.store.db.upgrade()  # migrated before the workers open it
    workers = [start_celery_worker(worker_env) for _ in range(2)]
    timings = run_burst(app, "burst-celery", expect_queue={"backend": "celery"})
    assert all(w.poll() is None for w in workers), "both workers still running"
    ran = [
        len(RAN.findall((tmp_path / f"worker-{i}.log").read_text(errors="replace")))
        for i in range(len(workers))
    ]
    assert min(ran) >= 1 and sum(ran) == BURST, f"tasks run per worker: {ran}"
    print(f"two celery workers: {timings}, tasks per worker {ran}")
