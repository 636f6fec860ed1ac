"""Editing a generated track: identity error, join lengths and speed of remake and extend.

For each prompt a track is generated (with its project) at 30 s and 180 s; every section
is remade in turn, and the track extended by half its length again. Reported: the largest
absolute difference from the original outside the joins (must be 0), the joins' lengths,
the head kept by extend, the level of the remade sections against the original (same seed,
dB), and the median wall time of a remake and of an extend against a full render of the
same piece (the project's score rendered whole, with the same engine options).
Writes benchmarks/results/edit.json.
Run: .venv/bin/python -m benchmarks.edit [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmarks.common import write_results
from soundstar.editing.assemble import project_score
from soundstar.editing.edits import extend, remake
from soundstar.engine.options import EngineOptions
from soundstar.engine.render import render_score
from soundstar.pipeline import GenerateRequest, generate
from soundstar.project import Project, load_project

PROMPTS = [
    "an upbeat 80s synthwave track at 118 BPM in A minor",
    "a chill lofi hip hop beat with dusty piano and upright bass",
    "a jazz trio with piano, double bass and brushes at 120 BPM",
]
DURATIONS = (30.0, 180.0)


def _original(folder: Path, prompt: str, seconds: float) -> tuple[Project, np.ndarray]:
    generate(
        GenerateRequest(
            prompt=prompt,
            output_path=folder / "a.wav",
            project_path=folder / "a.json",
            seed=7,
            duration_seconds=seconds,
        ),
        engine=EngineOptions(),
    )
    data, _ = sf.read(str(folder / "a.wav"), dtype="float32", always_2d=True)
    return load_project(folder / "a.json"), np.ascontiguousarray(data.T)


def _outside(
    audio: np.ndarray, base: np.ndarray, spans: list[tuple[float, float]], rate: int
) -> float:
    worst = 0.0
    for a, b in spans:
        i, j = round(a * rate), round(b * rate)
        if j > i:
            worst = max(worst, float(np.max(np.abs(audio[:, i:j] - base[:, i:j]))))
    return worst


def _level_db(audio: np.ndarray, base: np.ndarray, a: float, b: float, rate: int) -> float:
    i, j = round(a * rate), round(b * rate)
    new = np.mean(audio[:, i:j].astype(np.float64) ** 2)
    old = np.mean(base[:, i:j].astype(np.float64) ** 2)
    return float(10 * np.log10(new / old)) if new > 0 and old > 0 else 0.0


def _timed(fn: Any, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def one(prompt: str, seconds: float, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project, base = _original(Path(tmp), prompt, seconds)
    rate = project.engine.sample_rate
    score = project_score(project)
    full_s, _ = _timed(
        lambda: render_score(
            score, sample_rate=rate, seed=7, target_lufs=project.engine.target_lufs,
            options=project.engine.options,
        ),
        repeats,
    )  # fmt: skip
    identity, joins, remake_s, levels = 0.0, [], [], []
    for n, section in enumerate(project.sections, start=1):
        spent, result = _timed(lambda n=n: remake(project, base, section=n, seed=1000 + n), repeats)
        remake_s.append(spent)
        identity = max(identity, _outside(result.audio, base, result.identical_seconds, rate))
        joins.extend(b - a for a, b in result.joins_seconds)
        same = remake(project, base, section=n, seed=section.seed)
        levels.append(_level_db(same.audio, base, section.start_seconds, section.end_seconds, rate))
    to = min(300.0, seconds * 1.5)
    extend_s, extended = _timed(lambda: extend(project, base, to_seconds=to, seed=5), repeats)
    head_identity = _outside(extended.audio, base, extended.identical_seconds, rate)
    return {
        "prompt": prompt,
        "duration_s": seconds,
        "sections": len(project.sections),
        "identity_max_abs_diff_outside_joins": identity,
        "join_seconds": {"min": round(min(joins), 4), "max": round(max(joins), 4)} if joins else {},
        "same_seed_remake_level_db": {
            "max_abs": round(max(abs(x) for x in levels), 3),
        },
        "full_render_s": round(full_s, 3),
        "remake_s_median": round(statistics.median(remake_s), 3),
        "remake_over_full_render": round(statistics.median(remake_s) / full_s, 3),
        "extend_to_s": to,
        "extend_s": round(extend_s, 3),
        "extend_head_kept_s": round(extended.identical_seconds[0][1], 3),
        "extend_head_identity_max_abs_diff": head_identity,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [one(p, d, args.repeats) for d in DURATIONS for p in PROMPTS]
    path = write_results(
        "edit",
        {
            "repeats": args.repeats,
            "engine": "DDSP only (EngineOptions())",
            "identity_max_abs_diff_outside_joins": max(
                r["identity_max_abs_diff_outside_joins"] for r in rows
            ),
            "extend_head_identity_max_abs_diff": max(
                r["extend_head_identity_max_abs_diff"] for r in rows
            ),
            "rows": rows,
        },
    )
    for r in rows:
        print(
            f"{r['duration_s']:>5.0f} s {r['sections']} sections: identity {r['identity_max_abs_diff_outside_joins']}, "
            f"joins {r['join_seconds']}, remake {r['remake_s_median']} s vs full {r['full_render_s']} s "
            f"({r['remake_over_full_render']}), extend {r['extend_s']} s, head {r['extend_head_identity_max_abs_diff']}"
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
