"""Does each control do what it says? Sweep it and measure the music.

Each control is set through the library API (the same `--set` reading the CLI uses,
then `soundstar.pipeline.generate`) over 5 values x 6 prompts x 2 seeds, and its
effect is measured on the score and on the audio with named features:

- valence: major-minus-minor key-profile correlation of the score's pitch classes,
  and the mode read from the audio;
- danceability: pulse clarity (onset-envelope autocorrelation at the beat), onset
  regularity (1 - CV of beat intervals) and kick-bass alignment in the score;
- energy_level: notes per second, mean velocity, LUFS of the mix before mastering;
- tempo_bpm, key, time_signature: the tempo, tonic and beats per bar read back
  from the MIDI file written (exact by construction: the contract) and from the audio;
  the audio tempo is reported as read and at the metrical level nearest the value set
  (MIREX Accuracy-2: a reading at double or half the tempo counts as right), and the
  headline for tempo is that Accuracy-2 reading.

Writes benchmarks/results/controls.json as {"controls": {NAME: {"feature", "spearman",
"spearman_pooled", "effect", "features": {...}}}}: `spearman` is the mean over the sweeps
(one prompt and seed each) of Spearman's rho between the value set and the feature within
the sweep, `spearman_pooled` the rho over every render at once (where the prompts'
own differences weigh in), effect the feature's mean at the highest value minus at the
lowest. Run: `python -m benchmarks.controls [--quick]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mido
import numpy as np
import soundfile
from scipy.stats import spearmanr

from benchmarks.common import write_results
from soundstar.audio.analysis import estimate_key, estimate_tempo, pitch_class_histogram
from soundstar.audio.meter import estimate_beats_per_bar
from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.refit import refit
from soundstar.controls import apply_to_parameters, parse_override
from soundstar.engine.composer import compose
from soundstar.errors import ParameterError
from soundstar.keys import key_correlations
from soundstar.models import MusicalParameters, Score, split_key
from soundstar.pipeline import GenerateRequest, generate
from soundstar.project import load_project
from soundstar.settle import settle
from soundstar.theory import pitch_class

SAMPLE_RATE = 22050
DURATION_S = 10.0
SEEDS = (1, 2)
PROMPTS = (
    "a pop song with piano, bass and drums",
    "a calm ambient piece with synth pads and soft piano",
    "a funk groove with slap bass, electric guitar and drums",
    "a jazz trio with piano, upright bass and brushed drums",
    "a rock song with electric guitars, bass and drums",
    "a folk tune with acoustic guitar, fiddle and a shaker",
)
SWEEPS: dict[str, tuple[str, ...]] = {
    "valence": ("0.0", "0.25", "0.5", "0.75", "1.0"),
    "danceability": ("0.0", "0.25", "0.5", "0.75", "1.0"),
    "energy_level": ("0.0", "0.25", "0.5", "0.75", "1.0"),
    "tempo_bpm": ("70", "90", "110", "130", "150"),
    "key": ("C major", "D major", "E major", "F# major", "G# major"),
    "time_signature": ("2/4", "3/4", "4/4", "5/4", "7/4"),
}
PRIMARY = {
    "valence": "major_minus_minor_profile_r",
    "danceability": "pulse_clarity",
    "energy_level": "notes_per_second",
    "tempo_bpm": "tempo_read_accuracy2_bpm",
    "key": "tonic_read_pc",
    "time_signature": "beats_per_bar_read",
}
KICK_PITCHES = frozenset({35, 36})
_ONSET_HOP = 512


def _ordinal(name: str, value: str) -> float:
    """The value as a number on the control's axis (tonic pitch class, beats per bar)."""
    if name == "key":
        return float(pitch_class(split_key(value)[0]))
    if name == "time_signature":
        return float(value.split("/")[0])
    return float(value)


def _score_features(score: Score) -> dict[str, float]:
    notes = [n for t in score.tracks for n in t.notes]
    seconds = max(score.duration_seconds, 1e-9)
    correlations = key_correlations(pitch_class_histogram(score))
    major = max(r for k, r in correlations.items() if k.endswith("major"))
    minor = max(r for k, r in correlations.items() if k.endswith("minor"))
    kicks = {
        round(n.start_beat * 4)
        for t in score.tracks
        if t.is_drum
        for n in t.notes
        if n.pitch in KICK_PITCHES
    }
    bass = [
        round(n.start_beat * 4)
        for t in score.tracks
        if not t.is_drum and t.role == "bass"
        for n in t.notes
    ]
    return {
        "major_minus_minor_profile_r": major - minor,
        "notes_per_second": len(notes) / seconds,
        "mean_velocity": statistics.fmean(n.velocity for n in notes) if notes else 0.0,
        "kick_bass_alignment": (sum(b in kicks for b in bass) / len(bass)) if bass else 0.0,
    }


def _pulse(mono: np.ndarray) -> dict[str, float]:
    """Pulse clarity (the onset envelope's autocorrelation peak in 40-240 BPM over its
    zero lag) and onset regularity (1 - CV of the tracked beats' intervals)."""
    import librosa

    envelope = librosa.onset.onset_strength(y=mono, sr=SAMPLE_RATE, hop_length=_ONSET_HOP)
    fps = SAMPLE_RATE / _ONSET_HOP
    centred = envelope - envelope.mean()
    acf = np.correlate(centred, centred, mode="full")[len(centred) - 1 :]
    lo, hi = int(fps * 60 / 240), int(fps * 60 / 40)
    clarity = float(acf[lo:hi].max() / acf[0]) if acf[0] > 0 and hi < len(acf) else 0.0
    _, beats = librosa.beat.beat_track(
        onset_envelope=envelope, sr=SAMPLE_RATE, hop_length=_ONSET_HOP, units="time"
    )
    gaps = np.diff(np.asarray(beats, dtype=np.float64))
    regular = float(1.0 - gaps.std() / gaps.mean()) if gaps.size > 2 and gaps.mean() > 0 else 0.0
    return {"pulse_clarity": clarity, "onset_regularity": regular}


def accuracy2(read_bpm: float, set_bpm: float) -> float:
    """The reading at the metrical level (x1/2, x1, x2) nearest the tempo set."""
    return min((read_bpm * f for f in (0.5, 1.0, 2.0)), key=lambda b: abs(b - set_bpm))


def _midi_features(path: Path) -> dict[str, float]:
    """Tempo, beats per bar and tonic as the MIDI file written states them."""
    midi = mido.MidiFile(path)
    meta = {m.type: m for track in midi.tracks for m in track if m.is_meta}
    features: dict[str, float] = {}
    if "set_tempo" in meta:
        features["tempo_midi_bpm"] = float(mido.tempo2bpm(meta["set_tempo"].tempo))
    if "time_signature" in meta:
        features["beats_per_bar_midi"] = float(meta["time_signature"].numerator)
    if "key_signature" in meta:
        features["tonic_midi_pc"] = float(pitch_class(meta["key_signature"].key.rstrip("m")))
    return features


def _audio_features(audio: np.ndarray, set_bpm: float) -> dict[str, float]:
    mono = audio.mean(axis=0).astype(np.float32)
    features: dict[str, float] = {}
    try:
        tempo = estimate_tempo(audio, sample_rate=SAMPLE_RATE)
        features["tempo_read_bpm"] = tempo
        features["tempo_read_accuracy2_bpm"] = accuracy2(tempo, set_bpm)
        features["beats_per_bar_read"] = float(
            estimate_beats_per_bar(audio, sample_rate=SAMPLE_RATE, tempo_bpm=tempo).beats_per_bar
        )
    except ParameterError:
        pass
    key, _ = estimate_key(audio, sample_rate=SAMPLE_RATE)
    tonic, mode = split_key(key)
    features["tonic_read_pc"] = float(pitch_class(tonic))
    features["mode_read_major"] = 1.0 if mode == "major" else 0.0
    return features | _pulse(mono)


def render_once(
    aurora: Aurora, prompt: str, name: str, value: str, seed: int, tmp: Path
) -> dict[str, float]:
    """One render with one control set; its score and audio features."""
    base = aurora.understand(prompt, duration_seconds=DURATION_S, check_length=False).parameters
    params: MusicalParameters = apply_to_parameters(base, [parse_override(f"{name}={value}")])
    request = GenerateRequest(
        prompt=prompt,
        output_path=tmp / "mix.wav",
        midi_path=tmp / "score.mid",
        project_path=tmp / "project.json",
        sample_rate=SAMPLE_RATE,
        bit_depth=32,
        seed=seed,
        parameters=params,
        check_length=False,
    )
    generate(request, aurora=aurora)
    # the master's pre-gain took the bus to the target: the bus was that much off it
    project = load_project(tmp / "project.json")
    before_master = request.target_lufs - project.master.pre_gain_db
    settled = settle(params).parameters  # as the pipeline settles given parameters
    plan = refit(settled, aurora.plan(settled).value).plan
    score = compose(settled, plan, seed=seed)
    audio, _ = soundfile.read(tmp / "mix.wav", dtype="float32", always_2d=True)
    return (
        _score_features(score)
        | _midi_features(tmp / "score.mid")
        | _audio_features(audio.T, settled.tempo_bpm)
        | {"lufs_before_mastering": before_master}
    )


def _rho(xs: list[float], ys: list[float]) -> float:
    """Spearman's rho, 0 where either side never changes."""
    return float(spearmanr(xs, ys).statistic) if len(set(ys)) > 1 and len(set(xs)) > 1 else 0.0


def _series_rho(rows: list[dict[str, Any]], feature: str) -> float:
    """The mean over the sweeps (one prompt and seed each) of rho within the sweep: what
    moving the control does to one piece, apart from how the prompts differ."""
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if feature in r["features"]:
            series.setdefault(r["series"], []).append((r["x"], r["features"][feature]))
    rhos = [_rho([p[0] for p in s], [p[1] for p in s]) for s in series.values() if len(s) > 2]
    return statistics.fmean(rhos) if rhos else 0.0


def _summary(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    features: dict[str, Any] = {}
    keys = sorted({k for r in rows for k in r["features"]})
    for feature in keys:
        pairs = [(r["x"], r["features"][feature]) for r in rows if feature in r["features"]]
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        means = {
            str(x): round(statistics.fmean(y for px, y in pairs if px == x), 4)
            for x in sorted(set(xs))
        }
        ordered = list(means.values())
        features[feature] = {
            "spearman": round(_series_rho(rows, feature), 3),
            "spearman_pooled": round(_rho(xs, ys), 3),
            "effect": round(ordered[-1] - ordered[0], 4) if ordered else 0.0,
            "mean_by_value": means,
        }
    primary = PRIMARY[name]
    head = features.get(primary, {"spearman": None, "spearman_pooled": None, "effect": None})
    return {
        "feature": primary,
        "spearman": head["spearman"],
        "spearman_pooled": head["spearman_pooled"],
        "effect": head["effect"],
        "values": list(SWEEPS[name]),
        "features": features,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 values x 3 prompts x 1 seed")
    parser.add_argument("--only", nargs="*", help="sweep only these controls")
    parser.add_argument(
        "--results", default="controls", help="write benchmarks/results/RESULTS.json"
    )
    args = parser.parse_args(argv)
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
        (lambda t: (t[0], t[len(t) // 2], t[-1])) if args.quick else (lambda t: t)
    )
    prompts = PROMPTS[:3] if args.quick else PROMPTS
    seeds = SEEDS[:1] if args.quick else SEEDS
    aurora = Aurora()
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for name in args.only or list(SWEEPS):
        rows = []
        for prompt in prompts:
            for seed in seeds:
                for value in pick(SWEEPS[name]):
                    with tempfile.TemporaryDirectory() as tmp:
                        features = render_once(aurora, prompt, name, value, seed, Path(tmp))
                    rows.append(
                        {
                            "x": _ordinal(name, value),
                            "series": f"{prompt}|{seed}",
                            "features": features,
                        }
                    )
        out[name] = _summary(rows, name) | {"renders": len(rows)}
        print(
            f"{name}: {out[name]['feature']} rho={out[name]['spearman']} "
            f"pooled={out[name]['spearman_pooled']} effect={out[name]['effect']}",
            flush=True,
        )
    path = write_results(
        args.results,
        {
            "settings": {
                "quick": args.quick,
                "prompts": list(prompts),
                "seeds": list(seeds),
                "duration_s": DURATION_S,
                "sample_rate": SAMPLE_RATE,
                "seconds": round(time.perf_counter() - start, 1),
            },
            "controls": out,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
