"""Shared helpers for the benchmarks: where the evaluation data is, how results are written."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
RENDER_PROMPTS = (
    "an upbeat 80s synthwave track at 118 BPM in A minor",
    "a chill lofi hip hop beat with dusty piano and upright bass",
    "energetic drum and bass with rolling bass and pads",
    "a jazz trio with piano, double bass and brushes at 120 BPM",
)
"""The four styles the speed benchmarks render (synths, sampled keys and bass, breakbeats,
a brushed trio), so render, live and FluidSynth figures speak of the same music."""


def eval_dir() -> Path:
    """The shared evaluation data: $SOUNDSTAR_EVAL_DIR, else ../shared/eval beside the checkout."""
    env = os.environ.get("SOUNDSTAR_EVAL_DIR")
    path = Path(env) if env else ROOT.parent / "shared" / "eval"
    if not path.is_dir():
        raise SystemExit(f"evaluation data not found at {path}; set SOUNDSTAR_EVAL_DIR")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "commit": commit or None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
