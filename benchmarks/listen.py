"""How well `soundstar analyze` hears renders whose tempo, key and meter are known, and how
seamless `--loop` is.

Listen: every prompt of shared/eval/prompts.jsonl (default the first 20) is rendered for 30 s
at 22.05 kHz and analysed with soundstar.audio.listen (numpy/scipy, no librosa); tempo is
right within 2 % (octave errors, half or double, counted apart), key exact (relative key
apart), meter as beats per bar, energy as Spearman's rho between the parameters' energy
and the energy heard. Where librosa is installed (the analysis extra) its tempo
and key (soundstar.audio.analysis) are measured on the same renders for comparison.

Loop: 8-bar loops of the same prompts; the seam step |x[0] - x[-1]| against the median and
99th percentile of the loop's own sample steps, with tails wrapped and, for comparison,
without (the plain render cut to length), and the length error in samples.

Writes benchmarks/results/listen.json. Run: .venv/bin/python -m benchmarks.listen [--limit N]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from benchmarks.common import eval_dir, read_jsonl, write_results
from soundstar.audio.analysis import keys_equal, relative_key, tempo_matches, tempo_octave_error
from soundstar.audio.listen import analyze_audio
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.loop import render_loop
from soundstar.engine.render import render_score
from soundstar.loops import loop_parameters, loop_plan, loop_samples

SR = 22050
HAVE_LIBROSA = importlib.util.find_spec("librosa") is not None


def _seam(audio: np.ndarray) -> dict[str, float]:
    steps = np.abs(np.diff(audio, axis=1))
    seam = float(np.abs(audio[:, 0] - audio[:, -1]).max())
    median = float(np.median(steps))
    p99 = float(np.percentile(steps, 99))
    return {"seam": seam, "median_step": median, "p99_step": p99, "seam_over_median": seam / median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    prompts = read_jsonl(eval_dir() / "prompts.jsonl")[: args.limit]
    aurora = Aurora()
    rows: list[dict[str, Any]] = []
    loops: list[dict[str, Any]] = []
    for item in prompts:
        understood = aurora.understand(item["prompt"], duration_seconds=30)
        params = understood.parameters
        score = compose(params, understood.plan, seed=1)
        audio = render_score(score, sample_rate=SR, seed=1).audio
        start = time.perf_counter()
        heard = analyze_audio(audio, sample_rate=SR)
        seconds = time.perf_counter() - start
        tonal = params.key.split()[1] in ("major", "minor")
        row: dict[str, Any] = {
            "id": item["id"], "tempo": params.tempo_bpm, "heard_tempo": heard.tempo_bpm,
            "tempo_ok": tempo_matches(heard.tempo_bpm, params.tempo_bpm),
            "octave_error": tempo_octave_error(heard.tempo_bpm, params.tempo_bpm),
            "key": params.key, "heard_key": heard.key,
            "key_ok": keys_equal(heard.key, params.key) if tonal else None,
            "relative_key": keys_equal(heard.key, relative_key(params.key)) if tonal else None,
            "beats_per_bar": score.beats_per_bar,
            "meter_ok": int(heard.time_signature.split("/")[0]) == round(score.beats_per_bar),
            "energy": params.energy_level, "heard_energy": heard.energy_level,
            "analyze_seconds": round(seconds, 3),
        }  # fmt: skip
        if HAVE_LIBROSA:
            from soundstar.audio.analysis import estimate_key, estimate_tempo

            row["librosa_tempo_ok"] = tempo_matches(
                estimate_tempo(audio, sample_rate=SR), params.tempo_bpm
            )
            row["librosa_key_ok"] = (
                keys_equal(estimate_key(audio, sample_rate=SR)[0], params.key) if tonal else None
            )
        rows.append(row)
        looped = loop_parameters(params, 8)
        loop_score = compose(looped, loop_plan(understood.plan, looped), seed=1, loops=True)
        wrapped = render_loop(loop_score, sample_rate=SR, seed=1).audio
        plain = render_score(loop_score, sample_rate=SR, seed=1).audio
        exact = loop_samples(8, looped.time_signature, looped.tempo_bpm, SR)
        loops.append({
            "id": item["id"], "length_error_samples": int(wrapped.shape[1] - exact),
            "wrapped": _seam(wrapped), "cut": _seam(plain),
        })  # fmt: skip
        print(row["id"], row["tempo_ok"], row["key_ok"], row["meter_ok"], flush=True)

    def share(key: str) -> float:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(sum(bool(v) for v in values) / max(1, len(values)), 3)

    summary = {
        "renders": len(rows),
        "tempo_accuracy": share("tempo_ok"),
        "tempo_octave_errors": sum(r["octave_error"] is not None for r in rows),
        "key_accuracy": share("key_ok"),
        "relative_key_errors": sum(bool(r["relative_key"]) for r in rows),
        "meter_accuracy": share("meter_ok"),
        "energy_spearman": round(float(spearmanr([r["energy"] for r in rows],
                                                 [r["heard_energy"] for r in rows])[0]), 3),
        "analyze_seconds_per_30s_median": statistics.median(r["analyze_seconds"] for r in rows),
        **({"librosa_tempo_accuracy": share("librosa_tempo_ok"),
            "librosa_key_accuracy": share("librosa_key_ok")} if HAVE_LIBROSA else {}),
        "loop_seam_over_median_median": statistics.median(lp["wrapped"]["seam_over_median"] for lp in loops),
        "loop_seam_over_median_max": max(lp["wrapped"]["seam_over_median"] for lp in loops),
        "loop_seams_within_p99": sum(lp["wrapped"]["seam"] <= lp["wrapped"]["p99_step"] for lp in loops),
        "cut_seam_over_median_median": statistics.median(lp["cut"]["seam_over_median"] for lp in loops),
        "loop_length_error_samples_max": max(abs(lp["length_error_samples"]) for lp in loops),
    }  # fmt: skip
    path = write_results("listen", {"summary": summary, "renders": rows, "loops": loops})
    print(summary)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
