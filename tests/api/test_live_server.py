"""`soundstar serve` for real: a subprocess on a loopback port, keys made with `soundstar keys`,
spoken to over HTTP, and checked by schemathesis against its own OpenAPI schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    url: str
    token: str
    env: dict[str, str]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "soundstar"), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "SOUNDSTAR_DATA_DIR": str(data),
        "SOUNDSTAR_JOBS__WORKERS": "1",
        "SOUNDSTAR_API__RATE_LIMIT_BURST": "100000",
        "SOUNDSTAR_API__RATE_LIMIT_PER_MINUTE": "1000000",
    }
    env.pop("SOUNDSTAR_DATABASE_URL", None)
    env.pop("SOUNDSTAR_REDIS_URL", None)
    assert _cli(env, "db", "upgrade").returncode == 0
    made = _cli(env, "keys", "create", "alice", "--name", "tests")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    port = _free_port()
    log = (data / "server.log").open("w")  # a file, not a pipe: a full pipe would block the server
    server = subprocess.Popen(
        [str(BIN / "soundstar"), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise AssertionError(f"server exited: {(data / 'server.log').read_text()}")
    else:
        server.kill()
        raise AssertionError("server did not come up in 60 s")
    try:
        yield Live(url=url, token=token, env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.slow
def test_a_real_client_generates_and_downloads(live: Live) -> None:
    auth = {"Authorization": f"Bearer {live.token}"}
    with httpx.Client(base_url=live.url, headers=auth, timeout=120) as client:
        assert client.get("/docs").status_code == 200
        parsed = client.post(
            "/api/v1/aurora/parse", json={"prompt": "dreamy ambient pads, very slow"}
        )
        assert parsed.status_code == 200
        job = client.post(
            "/api/v1/aurora/generate",
            json={
                "prompt": "a tense cinematic cue with strings",
                "options": {"duration_seconds": 5, "sample_rate": 22050, "wait_seconds": 60},
            },
        ).json()
        gid = job["generation_id"]
        deadline = time.monotonic() + 120
        while job["status"] not in ("completed", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
            job = client.get(f"/api/v1/generations/{gid}").json()
        assert job["status"] == "completed", job.get("error")
        audio = client.get(job["audio_url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        assert audio.headers["content-type"].startswith("audio/wav")
    assert httpx.get(live.url + "/api/v1/aurora/history").status_code == 401


@pytest.mark.slow
def test_keys_list_and_revoke_take_effect(live: Live) -> None:
    made = _cli(live.env, "keys", "create", "carol")
    token = made.stdout.strip()
    listed = _cli(live.env, "keys", "list", "carol")
    assert listed.returncode == 0 and token[:10] in listed.stdout and "active" in listed.stdout
    key_id = listed.stdout.split("\t", 1)[0]
    assert _cli(live.env, "keys", "revoke", "carol", key_id).returncode == 0
    time.sleep(2.1)  # a running server trusts a verified key for at most two seconds
    response = httpx.get(live.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    missing = _cli(live.env, "keys", "revoke", "carol", "9999")
    assert missing.returncode != 0 and "no key" in missing.stderr


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_or_schema_violation(live: Live, tmp_path: Path) -> None:
    """Property-based requests from the OpenAPI schema: no 5xx, every response as documented."""
    run = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{live.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {live.token}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "12",
            "--exclude-path-regex",
            "/generate$",
            "--max-time",
            "240",
            "--request-timeout",
            "65",  # above the 60 s an edit (or generate) may be asked to wait for its result
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=420,
        env=live.env,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
