"""Adherence of the audio (and the MIDI) to what was asked, measured with librosa.

For every prompt of shared/eval/prompts.jsonl and the 100 MusicBench captions:
render 30 s, then measure tempo (±2 %), key (exact; relative key counted
separately as CKD), integrated loudness (pyloudnorm, ±0.5 LU of −14), true
peak (≤ −1 dBTP), the Pearson correlation of planned section energy with
measured section loudness, and on the score the tempo, key and meter that the
MIDI file carries. Writes benchmarks/results/adherence.json.
Run: .venv/bin/python -m benchmarks.adherence [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm

from benchmarks.common import eval_dir, read_jsonl, write_results
from benchmarks.parse_accuracy import tempo_bin
from soundstar.audio.analysis import (
    estimate_key,
    estimate_key_from_midi,
    estimate_tempo,
    keys_equal,
    relative_key,
    section_loudness,
)
from soundstar.audio.loudness import true_peak_dbtp
from soundstar.audio.midi import midi_to_summary, write_midi
from soundstar.aurora.pipeline import Aurora
from soundstar.config import EngineConfig
from soundstar.engine.composer import compose
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.render import render_score
from soundstar.knowledge import load_knowledge
from soundstar.models import split_key

SAMPLE_RATE = 44100
DURATION_S = 30.0


# The audio key estimator knows the 24 major and minor keys (as MidiCaps and Mustango's
# CK metric do): a modal key is compared as the major or minor key of its tonic that
# shares its third (mixolydian and lydian: major; dorian, phrygian, locrian: minor).
_MODE_FAMILY = {
    "major": "major",
    "lydian": "major",
    "mixolydian": "major",
    "minor": "minor",
    "dorian": "minor",
    "phrygian": "minor",
    "locrian": "minor",
    "harmonic minor": "minor",
    "melodic minor": "minor",
}


def major_minor(key: str) -> str:
    """The major/minor key a 24-key estimator can name for `key` ("E mixolydian" -> "E major")."""
    tonic, mode = split_key(key)
    return f"{tonic} {_MODE_FAMILY.get(mode, mode)}"


def _pearson(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3 or np.std(a) < 1e-6 or np.std(b) < 1e-6:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def measure(
    prompt: str, seed: int, aurora: Aurora, tmp: Path, options: EngineOptions
) -> dict[str, Any]:
    kb = load_knowledge()
    u = aurora.understand(prompt, duration_seconds=DURATION_S, check_length=False)
    p = u.parameters
    score = compose(p, u.plan, seed=seed)
    genre = kb.find_genre(p.sub_genre or p.genre)
    rendered = render_score(
        score,
        sample_rate=SAMPLE_RATE,
        seed=seed,
        drum_kit=(genre.drum_kit if genre and genre.drum_kit else "acoustic"),
        sidechain=bool(genre and genre.sidechain),
        options=options,
    )
    audio = rendered.audio
    tempo = estimate_tempo(audio, sample_rate=SAMPLE_RATE)
    key, _ = estimate_key(audio, sample_rate=SAMPLE_RATE)
    lufs = float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio.T.astype(np.float64)))
    peak = true_peak_dbtp(audio, sample_rate=SAMPLE_RATE)
    spb = score.seconds_per_beat
    starts = [s.start_bar * score.beats_per_bar * spb for s in score.sections]
    loudness = section_loudness(audio, sample_rate=SAMPLE_RATE, boundaries_s=starts)
    planned = [s.energy_level for s in score.sections]
    midi_path = tmp / "score.mid"
    write_midi(midi_path, score)
    summary = midi_to_summary(midi_path)
    midi_key, _ = estimate_key_from_midi(midi_path)
    return {
        "tempo_asked": p.tempo_bpm,
        "tempo_explicit": u.parsed.tempo.type == "explicit",
        "tempo_measured": round(tempo, 2),
        "tempo_ok": abs(tempo - p.tempo_bpm) / p.tempo_bpm <= 0.02,
        "key_asked": p.key,
        "key_measured": key,
        "key_ok": keys_equal(key, major_minor(p.key)),
        "key_strict_ok": keys_equal(key, p.key),
        "key_or_relative_ok": keys_equal(key, major_minor(p.key))
        or keys_equal(key, relative_key(major_minor(p.key))),
        "lufs": round(lufs, 2),
        "lufs_ok": abs(lufs - (-14.0)) <= 0.5,
        "true_peak_dbtp": round(peak, 2),
        "true_peak_ok": peak <= -1.0 + 0.05,
        "energy_loudness_r": _pearson(planned, loudness),
        "midi_tempo_ok": abs(summary["tempo_bpm"] - p.tempo_bpm) < 0.5,
        "midi_tempo_bin_ok": tempo_bin(summary["tempo_bpm"]) == tempo_bin(p.tempo_bpm),
        "midi_key_signature_ok": summary["key"] is not None and keys_equal(summary["key"], p.key),
        "midi_key_ok": keys_equal(midi_key, p.key),
        "midi_meter_ok": summary["time_signature"] == p.time_signature,
        "has_drums": any(t.is_drum for t in score.tracks),
        "sampled_tracks": sum(v == "sampler" for v in rendered.synthesis.values()),
        "seconds_render": rendered.timings_ms.get("synthesis", 0) / 1000
        + rendered.timings_ms.get("mix", 0) / 1000,
    }


def _summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(key: str, subset: list[dict[str, Any]] | None = None) -> float | None:
        group = rows if subset is None else subset
        return round(statistics.mean(float(r[key]) for r in group), 3) if group else None

    explicit = [r for r in rows if r["tempo_explicit"]]
    drummed = [r for r in rows if r["has_drums"]]
    corr = [r["energy_loudness_r"] for r in rows if r["energy_loudness_r"] is not None]
    return {
        "n": len(rows),
        "tempo_within_2pct": rate("tempo_ok"),
        "tempo_within_2pct_explicit_bpm": rate("tempo_ok", explicit),
        "tempo_within_2pct_with_drums": rate("tempo_ok", drummed),
        "key_exact": rate("key_ok"),
        "key_exact_modes_strict": rate("key_strict_ok"),
        "key_or_relative (CKD)": rate("key_or_relative_ok"),
        "loudness_within_0.5_LU": rate("lufs_ok"),
        "true_peak_at_most_-1_dBTP": rate("true_peak_ok"),
        "sampled_tracks_mean": rate("sampled_tracks"),
        "section_energy_loudness_r_mean": round(statistics.mean(corr), 3) if corr else None,
        "section_energy_loudness_r_median": round(statistics.median(corr), 3) if corr else None,
        "midi": {
            "tempo_exact": rate("midi_tempo_ok"),
            "tempo_bin": rate("midi_tempo_bin_ok"),
            "key_signature": rate("midi_key_signature_ok"),
            "key_from_notes": rate("midi_key_ok"),
            "time_signature": rate("midi_meter_ok"),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts of each set")
    parser.add_argument(
        "--mode", choices=("auto", "ddsp"), default="auto", help="engine rendering mode"
    )
    parser.add_argument("--only", default="", help="run only this prompt set (no results file)")
    args = parser.parse_args()
    options = engine_options_from_settings(EngineConfig(), mode=args.mode)
    aurora = Aurora()
    data = eval_dir()
    sets = {
        "dev_prompts": [
            (item["id"], item["prompt"]) for item in read_jsonl(data / "prompts.jsonl")
        ],
        "musicbench_test100": [
            (item["id"], item["caption"])
            for item in read_jsonl(data / "external" / "musicbench_test100.jsonl")
        ],
    }
    results: dict[str, Any] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in sets.items():
            if args.only and name != args.only:
                continue
            chosen = items[: args.limit] if args.limit else items
            rows = []
            for index, (item_id, prompt) in enumerate(chosen):
                row = measure(prompt, seed=index, aurora=aurora, tmp=Path(tmp), options=options)
                row["id"] = item_id
                rows.append(row)
            results[name] = {
                "summary": _summarise(rows),
                "misses": [
                    {
                        k: r[k]
                        for k in (
                            "id",
                            "tempo_asked",
                            "tempo_measured",
                            "key_asked",
                            "key_measured",
                        )
                    }
                    for r in rows
                    if not (r["tempo_ok"] and r["key_ok"])
                ],
            }
            print(name, results[name]["summary"])
            if args.only:
                for miss in results[name]["misses"]:
                    print(" ", miss)
    results["wall_seconds"] = round(time.perf_counter() - start, 1)
    results["engine"] = {
        "mode": options.mode,
        "soundfont": str(options.soundfont_path) if options.soundfont_path else None,
    }
    if args.only or args.limit:
        return
    results["not_measured"] = (
        "Mustango's chord match (PCM/ECM) and beats-per-bar need a chord and downbeat estimator "
        "run on the audio; not built yet."
    )
    path = write_results("adherence", results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
