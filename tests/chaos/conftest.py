"""Chaos fixtures: a Redis of our own on a free loopback port (never the shared one), a
`soundstar serve` and Celery workers as subprocesses, all killed and restarted at will."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent
# A minute of music renders for about a second on an idle machine: long enough that a job is
# still rendering when a test kills its process (5 s ones finished before the kill landed).
JOB_BODY: dict[str, Any] = {
    "prompt": "a bright synth pop loop with drums and bass",
    "options": {"duration_seconds": 60, "sample_rate": 22050, "stems": False, "seed": 3},
}
LEASE_S = "5"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: kills Redis, the server and workers mid-work (run alone: -m chaos)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Any, timeout_s: float, what: str, interval_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def pid_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@dataclass
class OwnRedis:
    """A redis-server without persistence on its own port: a restart loses every message."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, 10, "redis-server start")
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Cluster:
    """One deployment under test: environment, data dir, the processes it runs."""

    root: Path
    env: dict[str, str]
    token: str = ""
    server: subprocess.Popen[bytes] | None = None
    url: str = ""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "soundstar"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def _log(self, name: str) -> Any:
        path = self.root / f"{name}-{len(self.logs)}.log"
        self.logs.append(path)
        return path.open("wb")

    def start_server(self, *, healthy: bool = True) -> subprocess.Popen[bytes]:
        port = free_port()
        log = self._log("server")
        self.server = subprocess.Popen(
            [str(BIN / "soundstar"), "serve", "--port", str(port), "--log-level", "warning"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert self.server is not None and self.server.poll() is None, self.tail()
            try:
                status = httpx.get(self.url + "/health", timeout=2).status_code
            except httpx.HTTPError:
                return False
            return status == 200 if healthy else status in (200, 503)

        wait_until(up, 90, "server start", 0.2)
        return self.server

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = self._log("worker")
        worker = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "soundstar.jobs.celery_app",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=chaos-{len(self.workers)}-{os.getpid()}@%h",
                f"--queues={self.env['SOUNDSTAR_CELERY_QUEUE']}",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.workers.append(worker)
        return worker

    def kill_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)

    def submit(self, client: httpx.Client) -> httpx.Response:
        return client.post(f"{self.url}/api/v1/aurora/generate", json=JOB_BODY)

    def client(self) -> httpx.Client:
        return httpx.Client(headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.logs if p.exists())

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the chaos tests start their own")
    redis = OwnRedis(port=free_port(), workdir=tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


def make_cluster(root: Path, **env: str) -> Cluster:
    base = {
        **os.environ,
        "SOUNDSTAR_DATA_DIR": str(root / "data"),
        "SOUNDSTAR_JOBS__WORKERS": "1",
        "SOUNDSTAR_JOBS__LEASE_S": LEASE_S,
        "SOUNDSTAR_API__RATE_LIMIT_BURST": "100000",
        "SOUNDSTAR_API__RATE_LIMIT_PER_MINUTE": "1000000",
        "SOUNDSTAR_CELERY_QUEUE": f"soundstar-chaos-{os.getpid()}-{free_port()}",
        "SOUNDSTAR_CELERY_VISIBILITY_TIMEOUT_S": "10",
    }
    for name in ("SOUNDSTAR_DATABASE_URL", "SOUNDSTAR_REDIS_URL", "SOUNDSTAR_JOBS__BROKER_URL"):
        base.pop(name, None)
    cluster = Cluster(root=root, env={**base, **env})
    made = cluster.cli("keys", "create", "chaos")
    assert made.returncode == 0, made.stderr
    cluster.token = made.stdout.strip().splitlines()[0]
    return cluster
