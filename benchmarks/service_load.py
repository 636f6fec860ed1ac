"""HTTP latency under load: parse, suggest and enhance against `soundstar serve` (rule-based).

Run: python -m benchmarks.service_load  →  benchmarks/results/service_load.json
     python -m benchmarks.service_load --scenario waiters  →  benchmarks/results/service_waiters.json

The `waiters` scenario posts 100 generates that each wait (`options.wait_seconds`) for
a result that cannot come in time (one pool worker), and meanwhile measures /health
and another user's /api/v1/me and suggest, against the same probes before the waiters.

Starts the real server (`soundstar serve`, one uvicorn process, SQLite, embedded
pool) and, in the same run, a minimal FastAPI app under the same uvicorn
settings. Concurrent keep-alive clients send requests for a fixed time per
endpoint; p50/p99 are per request, rps over the wall time. The load generator
shares the machine's cores with the server, so absolute figures are lower
bounds; the ratio against the minimal app is the figure that travels.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import eval_dir, read_jsonl, write_results

BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _load(
    base: str,
    path: str,
    bodies: list[dict[str, Any]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop_at:
                body = bodies[i % len(bodies)]
                i += concurrency
                start = time.perf_counter()
                response = await client.post(path, json=body)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1

        begin = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        wall = time.perf_counter() - begin
    return {
        "requests": len(latencies),
        "errors": errors,
        "concurrency": concurrency,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        "rps": round(len(latencies) / wall, 1),
    }


def _partials(prompts: list[str]) -> list[dict[str, Any]]:
    bodies = []
    for prompt in prompts:
        for cut in range(4, len(prompt), 7):
            bodies.append({"partial_prompt": prompt[:cut], "cursor_position": cut})
    return bodies


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def _probe(
    base: str, headers: dict[str, str], seconds: float, interval_s: float = 0.1
) -> dict[str, dict[str, Any]]:
    """Latency of /health, /api/v1/me and suggest, one request at a time, for `seconds`."""
    probes = {
        "health": ("GET", "/health", None, {}),
        "me": ("GET", "/api/v1/me", None, headers),
        "suggest": (
            "POST",
            "/api/v1/aurora/suggest",
            {"partial_prompt": "a dreamy synth"},
            headers,
        ),
    }
    seen: dict[str, list[float]] = {name: [] for name in probes}
    failures = {name: 0 for name in probes}
    stop_at = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.perf_counter() < stop_at:
            for name, (method, path, body, hdrs) in probes.items():
                start = time.perf_counter()
                response = await client.request(method, path, json=body, headers=hdrs)
                seen[name].append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    failures[name] += 1
            await asyncio.sleep(interval_s)
    return {
        name: {
            "requests": len(values),
            "non_200": failures[name],
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(_percentile(values, 0.99), 2),
            "max_ms": round(max(values), 2),
        }
        for name, values in seen.items()
    }


async def _waiters(
    base: str,
    waiter_headers: dict[str, str],
    probe_headers: dict[str, str],
    count: int,
    wait_s: float,
) -> dict[str, Any]:
    """`count` generates that each wait `wait_s`, with probes from another user meanwhile."""
    body = {
        "prompt": "a calm piano piece with soft strings",
        "options": {
            "duration_seconds": 60,
            "sample_rate": 22050,
            "stems": False,
            "wait_seconds": wait_s,
        },
    }
    limits = httpx.Limits(max_connections=count + 4, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=base, headers=waiter_headers, limits=limits, timeout=wait_s + 60
    ) as client:
        started = time.perf_counter()
        posts = [
            asyncio.create_task(client.post("/api/v1/aurora/generate", json=body))
            for _ in range(count)
        ]
        await asyncio.sleep(1.0)  # let every waiter be accepted and start waiting
        during = await _probe(base, probe_headers, max(1.0, wait_s - 4.0))
        answers = await asyncio.gather(*posts)
        elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for answer in answers:
        key = f"{answer.status_code} {answer.json().get('status', '')}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "waiters": count,
        "wait_seconds": wait_s,
        "answers": statuses,
        "elapsed_s": round(elapsed, 1),
        "probes": during,
    }


def _run_waiters(
    base: str, auth: dict[str, str], other: dict[str, str], count: int, wait_s: float
) -> dict[str, Any]:
    baseline = asyncio.run(_probe(base, other, 5.0))
    loaded = asyncio.run(_waiters(base, auth, other, count, wait_s))
    return {"baseline": baseline, "while_waiting": loaded}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load time per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scenario", choices=["endpoints", "waiters"], default="endpoints")
    parser.add_argument("--waiters", type=int, default=100, help="waiting generate callers")
    parser.add_argument("--wait-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="soundstar-load-"))
    env = {
        **os.environ,
        "SOUNDSTAR_DATA_DIR": str(work),
        "SOUNDSTAR_API__RATE_LIMIT_BURST": "100000",
        "SOUNDSTAR_API__RATE_LIMIT_PER_MINUTE": "1000000",
        "SOUNDSTAR_JOBS__WORKERS": "1",
    }
    for name in ("SOUNDSTAR_DATABASE_URL", "SOUNDSTAR_REDIS_URL"):
        env.pop(name, None)
    made = subprocess.run(
        [str(BIN / "soundstar"), "keys", "create", "bench"], env=env, capture_output=True, text=True
    )
    if made.returncode != 0:
        raise SystemExit(f"could not create an API key: {made.stderr.strip()}")
    token = made.stdout.strip().splitlines()[0]
    if args.scenario == "waiters":
        _main_waiters(args, env, work, token)
        return
    prompts = [row["prompt"] for row in read_jsonl(eval_dir() / "prompts.jsonl")]
    ours_port, ref_port = _port(), _port()
    ours = _start(
        [str(BIN / "soundstar"), "serve", "--port", str(ours_port), "--log-level", "warning"],
        env,
        work / "soundstar.log",
    )
    ref = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.support.minimal_app:app",
            "--port",
            str(ref_port),
            "--log-level",
            "warning",
            "--ws",
            "websockets-sansio",
        ],
        env,
        work / "minimal.log",
    )
    results: dict[str, Any] = {}
    try:
        _wait_up(f"http://127.0.0.1:{ours_port}/health", ours)
        _wait_up(f"http://127.0.0.1:{ref_port}/docs", ref)
        auth = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{ours_port}"

        def run(
            url: str, path: str, bodies: list[dict[str, Any]], headers: dict[str, str]
        ) -> dict[str, Any]:
            """Latency of one client at a time (service time), then throughput under load."""
            return {
                "one_client": asyncio.run(_load(url, path, bodies, headers, 1, args.seconds / 2)),
                "under_load": asyncio.run(
                    _load(url, path, bodies, headers, args.concurrency, args.seconds)
                ),
            }

        suggest_bodies = _partials(prompts)
        asyncio.run(
            _load(base, "/api/v1/aurora/suggest", suggest_bodies[:50], auth, 2, 1.0)
        )  # warm-up
        results["suggest"] = run(base, "/api/v1/aurora/suggest", suggest_bodies, auth)
        results["parse"] = run(base, "/api/v1/aurora/parse", [{"prompt": p} for p in prompts], auth)
        results["enhance"] = run(
            base,
            "/api/v1/aurora/enhance",
            [{"prompt": p, "enhancement_level": "moderate"} for p in prompts],
            auth,
        )
        results["minimal_fastapi_suggest"] = run(
            f"http://127.0.0.1:{ref_port}", "/suggest", suggest_bodies, {}
        )
    finally:
        for proc in (ours, ref):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    ratio = results["suggest"]["under_load"]["rps"] / max(
        1e-9, results["minimal_fastapi_suggest"]["under_load"]["rps"]
    )
    summary = {
        "suggest_rps_vs_minimal_fastapi": round(ratio, 3),
        "goals": {
            "suggest_p99_under_30_ms_one_client": results["suggest"]["one_client"]["p99_ms"] < 30,
            "parse_p99_within_spec_budget_300_ms_under_load": results["parse"]["under_load"][
                "p99_ms"
            ]
            < 300,
            "enhance_p99_within_spec_budget_400_ms_under_load": results["enhance"]["under_load"][
                "p99_ms"
            ]
            < 400,
        },
    }
    path = write_results(
        "service_load",
        {
            "seconds_per_endpoint": args.seconds,
            "endpoints": results,
            "summary": summary,
            "note": "client and server share the machine's cores; one uvicorn process; SQLite; rule-based Aurora",
        },
    )
    for name, pair in results.items():
        for mode, f in pair.items():
            print(
                f"{name:24s} {mode:10s} p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms"
                f"  {f['rps']:7.1f} rps  errors {f['errors']}"
            )
    print(f"suggest rps / minimal FastAPI rps = {ratio:.3f}")
    print(f"wrote {path}")


def _main_waiters(args: argparse.Namespace, env: dict[str, str], work: Path, token: str) -> None:
    other = (
        subprocess.run(
            [str(BIN / "soundstar"), "keys", "create", "someone-else"],
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[0]
    )
    port = _port()
    server = _start(
        [str(BIN / "soundstar"), "serve", "--port", str(port), "--log-level", "warning"],
        env,
        work / "soundstar.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{base}/health", server)
        result = _run_waiters(
            base,
            {"Authorization": f"Bearer {token}"},
            {"Authorization": f"Bearer {other}"},
            args.waiters,
            args.wait_seconds,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    path = write_results(
        "service_waiters",
        {
            **result,
            "note": (
                "one soundstar serve process (SQLite, one pool worker rendering the queued jobs "
                "meanwhile); probes are sequential requests from another user; client, server "
                "and worker share the machine's cores"
            ),
        },
    )
    for phase in ("baseline", "while_waiting"):
        probes = result[phase] if phase == "baseline" else result[phase]["probes"]
        for name, f in probes.items():
            print(
                f"{phase:14s} {name:8s} p50 {f['p50_ms']:8.2f} ms  p99 {f['p99_ms']:8.2f} ms"
                f"  max {f['max_ms']:8.2f} ms  n {f['requests']}  non-200 {f['non_200']}"
            )
    print("waiters answered:", result["while_waiting"]["answers"])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
