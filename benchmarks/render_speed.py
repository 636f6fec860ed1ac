"""Render speed: seconds to render 30 s and 180 s of stereo 44.1 kHz from a prompt.

Reports the median of several runs per stage and the real-time factor, with the engine
options of the default settings (SoundFont sampler for acoustic instruments when one is
installed, DDSP for the rest) and, for comparison, with DDSP only. In the same run the
`fluidsynth` CLI renders the same MIDI file (write_midi of the same score) with the same
SoundFont, and the ratio of our render time to FluidSynth's wall time is reported per
prompt. Peak memory (tracemalloc: numpy and Python allocations) of one 180 s render.
Writes benchmarks/results/render_speed.json.
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
from soundstar.config import EngineConfig
from soundstar.engine.composer import compose
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.render import render_score
from soundstar.models import Score

PROMPTS = [
    "an upbeat 80s synthwave track at 118 BPM in A minor",
    "a chill lofi hip hop beat with dusty piano and upright bass",
    "energetic drum and bass with rolling bass and pads",
    "a jazz trio with piano, double bass and brushes at 120 BPM",
]
SAMPLE_RATE = 44100


def _score(prompt: str, duration: float, seed: int) -> tuple[Score, str, float, float]:
    """(score, drum kit, seconds understanding, seconds composing)."""
    t0 = time.perf_counter()
    u = Aurora().understand(prompt, duration_seconds=duration)
    t1 = time.perf_counter()
    score = compose(u.parameters, u.plan, seed=seed)
    t2 = time.perf_counter()
    return score, score.drum_kit, t1 - t0, t2 - t1


def _render_once(
    prompt: str, duration: float, seed: int, options: EngineOptions
) -> dict[str, float]:
    score, kit, understand, composing = _score(prompt, duration, seed)
    start = time.perf_counter()
    result = render_score(score, sample_rate=SAMPLE_RATE, seed=seed, drum_kit=kit, options=options)
    render = time.perf_counter() - start
    timings = {
        "understand": understand,
        "compose": composing,
        "render": render,
        "total": understand + composing + render,
        "sampled_tracks": float(sum(v == "sampler" for v in result.synthesis.values())),
    }
    timings.update({f"render.{k}": v / 1000 for k, v in result.timings_ms.items()})
    return timings


def _fluidsynth_vs_ours(
    prompt: str, duration: float, options: EngineOptions
) -> dict[str, Any] | None:
    """FluidSynth CLI and our renderer on the same score, one after the other."""
    binary = shutil.which("fluidsynth")
    font = options.soundfont_path
    if binary is None or font is None:
        return None
    score, kit, _, _ = _score(prompt, duration, 1)
    with tempfile.TemporaryDirectory() as tmp:
        midi = Path(tmp) / "x.mid"
        write_midi(midi, score)
        start = time.perf_counter()
        subprocess.run(
            [
                binary,
                "-ni",
                "-F",
                str(Path(tmp) / "x.wav"),
                "-r",
                str(SAMPLE_RATE),
                str(font),
                str(midi),
            ],
            check=True,
            capture_output=True,
        )
        fluid = time.perf_counter() - start
    start = time.perf_counter()
    render_score(score, sample_rate=SAMPLE_RATE, seed=1, drum_kit=kit, options=options)
    ours = time.perf_counter() - start
    return {
        "prompt": prompt,
        "fluidsynth_seconds": round(fluid, 4),
        "ours_seconds": round(ours, 4),
        "ratio_ours_to_fluidsynth": round(ours / fluid, 3),
    }


def _figures(duration: float, repeats: int, options: EngineOptions) -> dict[str, Any]:
    runs = {
        p: [_render_once(p, duration, seed, options) for seed in range(repeats)] for p in PROMPTS
    }
    every = [r for rs in runs.values() for r in rs]
    medians = {k: round(statistics.median(r[k] for r in every), 4) for k in every[0]}
    return {
        "runs": len(every),
        "median_seconds": medians,
        "real_time_factor": round(duration / medians["total"], 1),
        "median_render_seconds_by_prompt": {
            p: round(statistics.median(r["render"] for r in rs), 4) for p, rs in runs.items()
        },
        "max_render_seconds": round(max(r["render"] for r in every), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    options = engine_options_from_settings(EngineConfig())
    ddsp = options.model_copy(update={"mode": "ddsp"})
    _render_once(PROMPTS[0], 10.0, 0, options)  # warm caches (SoundFont, wavetables, drums)
    _render_once(PROMPTS[1], 10.0, 0, options)
    figures: dict[str, Any] = {
        "engine": {
            "mode": options.mode,
            "soundfont": str(options.soundfont_path) if options.soundfont_path else None,
        }
    }
    for duration in (30.0, 180.0):
        label = f"{int(duration)}s"
        figures[label] = _figures(duration, args.repeats, options)
        figures[label]["ddsp_only"] = _figures(duration, 1, ddsp)["median_seconds"]
        comparisons = [
            c for p in PROMPTS if (c := _fluidsynth_vs_ours(p, duration, options)) is not None
        ]
        figures[label]["fluidsynth"] = comparisons or None
        figures[label]["ratio_vs_fluidsynth_median"] = (
            round(statistics.median(c["ratio_ours_to_fluidsynth"] for c in comparisons), 3)
            if comparisons
            else None
        )
        print(
            f"{label}: median render {figures[label]['median_seconds']['render']:.3f} s, "
            f"total {figures[label]['median_seconds']['total']:.3f} s; "
            f"vs fluidsynth {figures[label]['ratio_vs_fluidsynth_median']}"
        )
    tracemalloc.start()
    _render_once(PROMPTS[1], 180.0, 99, options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["peak_memory_mb_180s"] = round(peak / 2**20, 1)
    figures["goals"] = {"30s_under_s": 0.5, "180s_under_s": 3.0}
    path = write_results("render_speed", figures)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
