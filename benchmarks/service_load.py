"""HTTP latency under load: parse, suggest and enhance against `soundstar serve` (rule-based).

Run: python -m benchmarks.service_load  →  benchmarks/results/service_load.json

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load time per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    prompts = [row["prompt"] for row in read_jsonl(eval_dir() / "prompts.jsonl")]
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
    token = made.stdout.strip()
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


if __name__ == "__main__":
    main()
