"""Render speed: seconds to render 30 s and 180 s of stereo 44.1 kHz from a prompt.

Reports the median of several runs per stage and the real-time factor, with the engine
options of the default settings (SoundFont sampler for acoustic instruments when one is
installed, DDSP for the rest) and, for comparison, with DDSP only. In the same run the
`fluidsynth` CLI renders the same MIDI file (write_midi of the same score) with the same
SoundFont, and the ratio of our render time to FluidSynth's wall time is reported per
prompt. Peak memory (tracemalloc: numpy and Python allocations) of one 180 s render, and
the peak resident memory of a process rendering 30, 180, 300 and 600 s (a process per
duration; 600 s is the 300 s piece played twice, since prompts are capped at 300 s) with the
resident memory it had before the render: the render works in blocks, so it should not grow.

What a person waits for is the whole command, so the same prompts are also run as processes:
`soundstar generate` (30 s, with --midi) against the `fluidsynth` CLI rendering that MIDI file
from the same SoundFont, as pairs taken one after the other in alternating order, with the
median of the per-pair wall-time ratios; `soundstar parse` wall time from the compiled
knowledge cache (and, once, from an empty cache); and where one generate process's time goes
(imports by package, from `python -X importtime`, the pipeline's own timings, the rest).
The spools' memory budget (`engine.spool.MEMORY_BUDGET_BYTES`: a short piece's stems, bus
and master stay in memory, a long one's go to disk) is timed against no budget (every spool
on disk, as the block render first was) in the same process, renders taken in pairs in
alternating order, with the median of the per-pair ratios (`--budget-only`: that alone).
Writes benchmarks/results/render_speed.json.
Run: .venv/bin/python -m benchmarks.render_speed [--repeats N] [--pairs N] [--memory-only]
[--budget-only]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import RENDER_PROMPTS, write_results
from soundstar.audio.midi import write_midi
from soundstar.aurora.pipeline import Aurora
from soundstar.config import EngineConfig
from soundstar.engine.composer import compose
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.render import render_score
from soundstar.engine.spool import MEMORY_BUDGET_BYTES, SHARED_BUDGET
from soundstar.models import Score

PROMPTS = RENDER_PROMPTS
SAMPLE_RATE = 44100
WHOLE_PROCESS_S = 30.0
PARSE_PROMPT = "an upbeat 80s synthwave track with pulsing bass and dreamy pads"


def _score(prompt: str, duration: float, seed: int) -> tuple[Score, float, float]:
    """(score, seconds understanding, seconds composing)."""
    t0 = time.perf_counter()
    u = Aurora().understand(prompt, duration_seconds=duration)
    t1 = time.perf_counter()
    score = compose(u.parameters, u.plan, seed=seed)
    t2 = time.perf_counter()
    return score, t1 - t0, t2 - t1


def _render_once(
    prompt: str, duration: float, seed: int, options: EngineOptions
) -> dict[str, float]:
    score, understand, composing = _score(prompt, duration, seed)
    start = time.perf_counter()
    result = render_score(score, sample_rate=SAMPLE_RATE, seed=seed, options=options)
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
    score, _, _ = _score(prompt, duration, 1)
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
    render_score(score, sample_rate=SAMPLE_RATE, seed=1, options=options)
    ours = time.perf_counter() - start
    return {
        "prompt": prompt,
        "fluidsynth_seconds": round(fluid, 4),
        "ours_seconds": round(ours, 4),
        "ratio_ours_to_fluidsynth": round(ours / fluid, 3),
    }


MEMORY_DURATIONS_S = (30.0, 180.0, 300.0, 600.0)
MEMORY_PROMPT = PROMPTS[3]  # SoundFont piano and bass, synthesized brushes


def _long_score(prompt: str, duration: float, seed: int) -> Score:
    """The prompt's piece of `duration` s; past the prompt cap (300 s) its score repeated."""
    score, _, _ = _score(prompt, min(duration, 300.0), seed)
    copies = max(1, round(duration / score.duration_seconds))
    beats, bars = score.total_beats, round(score.total_beats / score.beats_per_bar)
    return score.model_copy(
        update={
            "total_beats": beats * copies,
            "sections": [
                s.model_copy(
                    update={"start_bar": s.start_bar + k * bars, "end_bar": s.end_bar + k * bars}
                )
                for k in range(copies)
                for s in score.sections
            ],
            "chords": [
                c.model_copy(update={"start_beat": c.start_beat + k * beats})
                for k in range(copies)
                for c in score.chords
            ],
            "tracks": [
                t.model_copy(
                    update={
                        "notes": [
                            n.model_copy(update={"start_beat": n.start_beat + k * beats})
                            for k in range(copies)
                            for n in t.notes
                        ]
                    }
                )
                for t in score.tracks
            ],
        }
    )


def _peak_resident_mib() -> float:
    """This process's own peak resident memory: VmHWM (ru_maxrss carries the parent's peak
    across fork and exec, so a child of a large process would report the parent's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_child(duration: float, mode: str) -> None:
    """In its own process: render `duration` s and print the peak resident memory (JSON)."""
    options = engine_options_from_settings(EngineConfig())
    options = options.model_copy(update={"mode": mode})
    score = _long_score(MEMORY_PROMPT, duration, 1)
    before = _peak_resident_mib()
    start = time.perf_counter()
    result = render_score(score, sample_rate=SAMPLE_RATE, seed=1, options=options)
    seconds = time.perf_counter() - start
    peak = _peak_resident_mib()
    figures = {
        "duration_s": round(score.duration_seconds, 1),
        "peak_rss_mib": round(peak, 1),
        "rss_before_render_mib": round(before, 1),
        "render_seconds": round(seconds, 3),
        "lufs": round(result.lufs, 3),
        "true_peak_dbtp": round(result.true_peak_dbtp, 3),
        "synthesis": sorted(set(result.synthesis.values())),
    }
    print(json.dumps(figures))


def _peak_memory_by_duration() -> dict[str, Any]:
    """`_memory_child` per engine mode and duration, each in a fresh process (its own
    VmHWM). "auto" loads the SoundFont (tinysoundfont holds its samples as float:
    a fixed cost, about 350 MiB resident and 490 MiB at its peak for FluidR3_GM)."""
    out: dict[str, Any] = {}
    for mode in ("ddsp", "auto"):
        out[mode] = {}
        for duration in MEMORY_DURATIONS_S:
            command = [sys.executable, "-m", "benchmarks.render_speed"]
            command += ["--memory-child", str(duration), "--memory-mode", mode]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            out[mode][f"{int(duration)}s"] = figures
            print(f"peak memory {mode} {int(duration)} s: {figures['peak_rss_mib']} MiB")
    return out


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


def _render_seconds(score: Score, options: EngineOptions, budget_bytes: int) -> float:
    """Seconds `render_score` takes with the spools' shared budget set to `budget_bytes`."""
    SHARED_BUDGET.limit_bytes = budget_bytes
    try:
        start = time.perf_counter()
        render_score(score, sample_rate=SAMPLE_RATE, seed=1, options=options)
        return time.perf_counter() - start
    finally:
        SHARED_BUDGET.limit_bytes = MEMORY_BUDGET_BYTES


def _budget_paired(pairs: int, options: EngineOptions) -> dict[str, Any]:
    """Render time with the spools' memory budget against every spool on disk, per
    duration: pairs of renders of each prompt in the same process, alternating order."""
    out: dict[str, Any] = {"budget_mib": MEMORY_BUDGET_BYTES >> 20}
    for duration in (30.0, 180.0):
        on_disk: list[float] = []
        budget: list[float] = []
        for prompt in PROMPTS:
            score, _, _ = _score(prompt, duration, 1)
            for k in range(pairs):
                order = (0, MEMORY_BUDGET_BYTES) if k % 2 == 0 else (MEMORY_BUDGET_BYTES, 0)
                seconds = {limit: _render_seconds(score, options, limit) for limit in order}
                on_disk.append(seconds[0])
                budget.append(seconds[MEMORY_BUDGET_BYTES])
        ratios = [b / d for b, d in zip(budget, on_disk, strict=True)]
        out[f"{int(duration)}s"] = {
            "pairs": len(ratios),
            "median_render_s_all_on_disk": round(statistics.median(on_disk), 4),
            "median_render_s_with_budget": round(statistics.median(budget), 4),
            "median_ratio_budget_to_disk": round(statistics.median(ratios), 3),
        }
        print(f"budget {int(duration)} s: {out[f'{int(duration)}s']}")
    return out


def _command() -> list[str]:
    """The `soundstar` command a person runs: the installed script beside this Python."""
    script = Path(sys.executable).with_name("soundstar")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "soundstar.cli"]


def _timed(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 4)


def _whole_process(pairs: int, font: Path | None) -> dict[str, Any] | None:
    """`soundstar generate` against fluidsynth on the MIDI it wrote, in alternating order."""
    binary = shutil.which("fluidsynth")
    if binary is None or font is None:
        return None
    by_prompt: dict[str, Any] = {}
    every: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for prompt in PROMPTS:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            midi = folder / "g.mid"
            generate = [
                *_command(),
                "generate",
                prompt,
                "--duration",
                str(WHOLE_PROCESS_S),
                "--seed",
                "1",
                "-o",
                str(folder / "g.wav"),
                "--midi",
                str(midi),
            ]
            fluid = [binary, "-ni", "-F", str(folder / "f.wav"), "-r", str(SAMPLE_RATE)]
            fluid += [str(font), str(midi)]
            _timed(generate)  # writes the MIDI; both read the SoundFont once before timing
            _timed(fluid)
            runs = []
            for i in range(pairs):
                if i % 2:
                    theirs = _timed(fluid)
                    ours = _timed(generate)
                else:
                    ours = _timed(generate)
                    theirs = _timed(fluid)
                runs.append((ours, theirs))
        every.extend(runs)
        by_prompt[prompt] = {
            "generate_wall_s": _median([o[0] for o, _ in runs]),
            "fluidsynth_wall_s": _median([t[0] for _, t in runs]),
            "ratio_median": _median([o[0] / t[0] for o, t in runs]),
        }
    return {
        "duration_s": WHOLE_PROCESS_S,
        "pairs": len(every),
        "generate_wall_median_s": _median([o[0] for o, _ in every]),
        "fluidsynth_wall_median_s": _median([t[0] for _, t in every]),
        "ratio_median": _median([o[0] / t[0] for o, t in every]),
        "generate_cpu_median_s": _median([o[1] for o, _ in every]),
        "fluidsynth_cpu_median_s": _median([t[1] for _, t in every]),
        "cpu_ratio_median": _median([o[1] / t[1] for o, t in every]),
        "by_prompt": by_prompt,
    }


def _parse_command(runs: int) -> dict[str, Any]:
    """`soundstar parse` wall time from the compiled cache, and from an empty one."""
    command = [*_command(), "parse", PARSE_PROMPT]
    _timed(command)  # the compiled knowledge base exists, as after any first start
    warm = [_timed(command) for _ in range(runs)]
    cold = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            cold.append(_timed(command, env={**os.environ, "SOUNDSTAR_CACHE_DIR": tmp}))
    return {
        "prompt": PARSE_PROMPT,
        "runs": runs,
        "wall_median_s": _median([w for w, _ in warm]),
        "cpu_median_s": _median([c for _, c in warm]),
        "empty_cache_wall_median_s": _median([w for w, _ in cold]),
    }


def _imports_by_package(importtime: str) -> dict[str, float]:
    """Seconds of `python -X importtime` self time, summed by top-level package, most first."""
    spent: dict[str, float] = {}
    for line in importtime.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue
        package = fields[2].strip().split(".")[0]
        spent[package] = spent.get(package, 0.0) + int(fields[0]) / 1e6
    return dict(sorted(spent.items(), key=lambda item: -item[1]))


def _where_generate_goes() -> dict[str, Any]:
    """One 30 s generate process split into imports (by package), the pipeline's own
    timed work and the rest (interpreter start, settings, the command line, exit)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-X", "importtime", "-m", "soundstar.cli", "generate"]
        command += [PROMPTS[0], "--duration", str(WHOLE_PROCESS_S), "--seed", "1", "--json"]
        command += ["-o", str(Path(tmp) / "g.wav")]
        start = time.perf_counter()
        proc = subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
    imports = _imports_by_package(proc.stderr)
    timings = json.loads(proc.stdout)["timings_ms"]
    imported = sum(imports.values())
    pipeline = timings["total"] / 1000
    return {
        "prompt": PROMPTS[0],
        "wall_s": round(wall, 4),
        "imports_s": round(imported, 4),
        "imports_by_package_s": {k: round(v, 4) for k, v in list(imports.items())[:8]},
        "pipeline_s": round(pipeline, 4),
        "pipeline_stages_ms": {k: v for k, v in timings.items() if k != "total"},
        "rest_s": round(wall - imported - pipeline, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=4, help="generate/fluidsynth pairs per prompt")
    parser.add_argument("--memory-only", action="store_true", help="only peak memory by duration")
    parser.add_argument("--budget-only", action="store_true", help="only the paired budget runs")
    parser.add_argument("--memory-child", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--memory-mode", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        _memory_child(args.memory_child, args.memory_mode)
        return
    if args.memory_only:
        _update_results({"peak_memory_by_duration": _peak_memory_by_duration()})
        return
    options = engine_options_from_settings(EngineConfig())
    ddsp = options.model_copy(update={"mode": "ddsp"})
    _render_once(PROMPTS[0], 10.0, 0, options)  # warm caches (SoundFont, wavetables, drums)
    _render_once(PROMPTS[1], 10.0, 0, options)
    if args.budget_only:
        _update_results({"spool_budget_paired": _budget_paired(args.repeats, options)})
        return
    figures: dict[str, Any] = {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "engine": {
            "mode": options.mode,
            "soundfont": str(options.soundfont_path) if options.soundfont_path else None,
        },
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
    figures["spool_budget_paired"] = _budget_paired(args.repeats, options)
    figures["peak_memory_by_duration"] = _peak_memory_by_duration()
    figures["whole_process_30s"] = _whole_process(args.pairs, options.soundfont_path)
    figures["parse_command"] = _parse_command(args.repeats * 3)
    figures["generate_breakdown"] = _where_generate_goes()
    whole = figures["whole_process_30s"]
    print(
        f"whole process: generate/fluidsynth median {whole and whole['ratio_median']}; "
        f"parse {figures['parse_command']['wall_median_s']:.3f} s"
    )
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["goals"] = {
        "30s_under_s": 0.5,
        "180s_under_s": 3.0,
        "whole_process_ratio_at_most": 1.0,
        "parse_under_s": 0.3,
        "peak_rss_mib_300s_at_most": 350,
        "peak_rss_mib_600s_at_most": 400,
    }
    path = write_results("render_speed", figures)
    print(f"wrote {path}")


def _update_results(figures: dict[str, Any]) -> None:
    """Lay `figures` over the last results (the rest of the benchmark not rerun)."""
    path = Path(__file__).parent / "results" / "render_speed.json"
    last = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    last.pop("benchmark", None)
    last.pop("machine", None)
    print(f"wrote {write_results('render_speed', {**last, **figures})}")


if __name__ == "__main__":
    main()
