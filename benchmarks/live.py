"""Live mode: how soon the first audio comes and how far ahead of real time bars render.

In one process pinned to one core (as a server worker would be, warm: the knowledge base
loaded and one session played before timing), for each prompt: the time from the request
(words understood, the first section composed) to the first bar rendered, with a fresh
Aurora cache so the words are read anew (the first run of each prompt also builds the
wavetables and drum hits of instruments not heard before: reported apart); then 60 s of playing time rendered bar by bar,
giving the real-time factor (seconds played per second of rendering) and the slowest bar's
render time against its length, and the loudness and true peak of what was played.
Medians over the repeats.
Writes benchmarks/results/live.json.
Run: .venv/bin/python -m benchmarks.live [--repeats N] [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np

from benchmarks.common import RENDER_PROMPTS, write_results
from soundstar.audio.loudness import integrated_loudness, true_peak_dbtp
from soundstar.aurora.pipeline import Aurora
from soundstar.engine import ddsp, drums
from soundstar.knowledge import load_knowledge
from soundstar.live.play import start_session

PROMPTS = RENDER_PROMPTS
SAMPLE_RATE = 44100
GOAL_FIRST_BLOCK_MS = 200.0


def _first_block_ms(prompt: str, seed: int, block_beats: float | None) -> float:
    start = time.perf_counter()
    session = start_session(
        Aurora(), prompt, seed=seed, sample_rate=SAMPLE_RATE, block_beats=block_beats
    )
    session.next_block()
    return (time.perf_counter() - start) * 1000


def _play(prompt: str, seconds: float, seed: int, block_beats: float | None) -> dict[str, float]:
    session = start_session(
        Aurora(), prompt, seed=seed, sample_rate=SAMPLE_RATE, block_beats=block_beats
    )
    slowest = 0.0
    blocks = []
    start = time.perf_counter()
    while session.seconds < seconds:
        t = time.perf_counter()
        block = session.next_block()
        spent = time.perf_counter() - t
        slowest = max(slowest, spent / (block.audio.shape[1] / SAMPLE_RATE))
        blocks.append(block.audio)
    elapsed = time.perf_counter() - start
    audio = np.concatenate(blocks, axis=1)
    return {
        "real_time_factor": session.seconds / elapsed,
        "slowest_bar_share": slowest,
        "lufs": integrated_loudness(audio, sample_rate=SAMPLE_RATE),
        "true_peak_dbtp": true_peak_dbtp(audio, sample_rate=SAMPLE_RATE),
    }


BLOCKS: dict[str, float | None] = {"beat": 1.0, "bar": None}  # the socket's default first


def _forget_sounds() -> None:
    """The synthesized wavetables and drum hits forgotten, as if no one had played yet."""
    ddsp.clear_caches()
    drums._one_shots.cache_clear()


def _row(prompt: str, repeats: int, seconds: float, block_beats: float | None) -> dict[str, Any]:
    _forget_sounds()
    firsts = [_first_block_ms(prompt, seed, block_beats) for seed in range(repeats)]
    plays = [_play(prompt, seconds, seed, block_beats) for seed in range(repeats)]
    return {
        "first_block_ms": round(statistics.median(firsts), 1),
        "first_block_ms_runs": [round(x, 1) for x in firsts],
        # the first run of a prompt also builds its instruments' wavetables and drum hits
        "first_block_ms_new_sounds": round(firsts[0], 1),
        "real_time_factor": round(statistics.median(p["real_time_factor"] for p in plays), 1),
        "slowest_block_share_of_its_length": round(max(p["slowest_bar_share"] for p in plays), 3),
        # the master gain is measured on the first 8 s and then held: loudness is not exact
        "integrated_lufs": round(statistics.median(p["lufs"] for p in plays), 2),
        "true_peak_dbtp_max": round(max(p["true_peak_dbtp"] for p in plays), 2),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "first_block_ms_median": round(statistics.median(r["first_block_ms"] for r in rows), 1),
        "first_block_ms_worst": max(r["first_block_ms"] for r in rows),
        "first_block_ms_new_sounds_worst": max(r["first_block_ms_new_sounds"] for r in rows),
        "real_time_factor_median": round(statistics.median(r["real_time_factor"] for r in rows), 1),
        "real_time_factor_worst": min(r["real_time_factor"] for r in rows),
        "integrated_lufs_range": [
            min(r["integrated_lufs"] for r in rows),
            max(r["integrated_lufs"] for r in rows),
        ],
        "true_peak_dbtp_max": max(r["true_peak_dbtp_max"] for r in rows),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load_knowledge()
    _play("a warm-up piece with piano and strings", 8.0, 0, None)  # as a running server has
    by_block: dict[str, Any] = {}
    for name, block_beats in BLOCKS.items():
        rows = []
        for prompt in PROMPTS:
            row = {"prompt": prompt, **_row(prompt, args.repeats, args.seconds, block_beats)}
            rows.append(row)
            print(name, row, flush=True)
        by_block[name] = {"summary": _summary(rows), "prompts": rows}
        print(name, by_block[name]["summary"], flush=True)
    path = write_results(
        "live",
        {
            "what": "live mode on one core: the first block from the request, then blocks "
            "rendered ahead of real time (44100 Hz stereo); blocks of a beat (the socket's "
            "default) and of a bar (soundstar live)",
            "cores_used": 1,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "seconds_played_per_run": args.seconds,
            "repeats": args.repeats,
            "goal_first_block_ms": GOAL_FIRST_BLOCK_MS,
            "target_lufs": -14.0,
            "limiter_ceiling_dbfs_sample_peak": -1.0,
            "blocks": by_block,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
