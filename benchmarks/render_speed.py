"""Render speed: seconds to render 30 s and 180 s of stereo 44.1 kHz from a prompt.

Reports the median of several runs per stage, the real-time factor, and, when
the `fluidsynth` command and a General MIDI SoundFont are present, FluidSynth
rendering the same MIDI in the same process run (a ratio). Peak memory via
tracemalloc is reported for one extra run. Writes benchmarks/results/render_speed.json.
Run: .venv/bin/python -m benchmarks.render_speed [--repeats N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.common import write_results
from soundstar.audio.midi import write_midi
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.render import render_score
from soundstar.knowledge import load_knowledge

PROMPTS = [
    "an upbeat 80s synthwave track at 118 BPM in A minor",
    "a chill lofi hip hop beat with dusty piano and upright bass",
    "energetic drum and bass with rolling bass and pads",
]
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)


def _render_once(prompt: str, duration: float, seed: int) -> dict[str, float]:
    kb = load_knowledge()
    t0 = time.perf_counter()
    u = Aurora().understand(prompt, duration_seconds=duration)
    t1 = time.perf_counter()
    score = compose(u.parameters, u.plan, seed=seed)
    t2 = time.perf_counter()
    genre = kb.find_genre(u.parameters.sub_genre or u.parameters.genre)
    result = render_score(
        score,
        sample_rate=44100,
        seed=seed,
        drum_kit=(genre.drum_kit if genre and genre.drum_kit else "acoustic"),
    )
    t3 = time.perf_counter()
    timings = {"understand": t1 - t0, "compose": t2 - t1, "render": t3 - t2, "total": t3 - t0}
    timings.update({f"render.{k}": v / 1000 for k, v in result.timings_ms.items()})
    return timings


def _fluidsynth_seconds(prompt: str, duration: float) -> float | None:
    binary = shutil.which("fluidsynth")
    font = next((f for f in SOUNDFONTS if Path(f).exists()), None)
    if binary is None or font is None:
        return None
    u = Aurora().understand(prompt, duration_seconds=duration)
    score = compose(u.parameters, u.plan, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        midi = Path(tmp) / "x.mid"
        write_midi(midi, score)
        start = time.perf_counter()
        subprocess.run(
            [binary, "-ni", "-q", "-F", str(Path(tmp) / "x.wav"), "-r", "44100", font, str(midi)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    _render_once(PROMPTS[0], 10.0, 0)  # warm caches (wavetables, drum one-shots, imports)
    figures: dict[str, Any] = {}
    for duration in (30.0, 180.0):
        runs = [_render_once(p, duration, seed) for seed in range(args.repeats) for p in PROMPTS]
        medians = {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}
        fluid = _fluidsynth_seconds(PROMPTS[0], duration)
        figures[f"{int(duration)}s"] = {
            "runs": len(runs),
            "median_seconds": medians,
            "real_time_factor": round(duration / medians["total"], 1),
            "fluidsynth_seconds": round(fluid, 4) if fluid is not None else None,
            "ratio_vs_fluidsynth": round(medians["total"] / fluid, 3) if fluid else None,
        }
        print(
            f"{duration:.0f} s: median total {medians['total']:.3f} s ({duration / medians['total']:.0f}x real time); fluidsynth {fluid}"
        )
    tracemalloc.start()
    _render_once(PROMPTS[0], 180.0, 99)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["peak_memory_mb_180s"] = round(peak / 2**20, 1)
    figures["goals"] = {"30s_under_s": 0.5, "180s_under_s": 3.0}
    path = write_results("render_speed", figures)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
