"""Score → audio: synthesize each track to a stem, then mix and master.

The one entry point of the engine's audio half; it reports how long each stage
took and which ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from soundstar.audio.export import SUPPORTED_SAMPLE_RATES
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import GM_DRUM_NOTES, render_drum_hits
from soundstar.engine.mixer import StemInput, mix
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ParameterError
from soundstar.knowledge import load_knowledge
from soundstar.models import Role, Score, Track

ProgressFn = Callable[[str, float], None]

_ROLE_MIX: dict[Role, tuple[float, float, float]] = {
    # role: (pan, gain dB, reverb send)
    Role.DRUMS: (0.0, 0.0, 0.06),
    Role.PERCUSSION: (-0.35, -9.0, 0.12),
    Role.BASS: (0.0, -1.5, 0.0),
    Role.CHORDS: (-0.25, -6.0, 0.18),
    Role.PAD: (0.3, -8.0, 0.35),
    Role.LEAD: (0.1, -3.5, 0.22),
    Role.ARP: (0.35, -9.0, 0.28),
    Role.TEXTURE: (0.0, -12.0, 0.4),
}
_DRUM_VOICE_BY_NOTE = {note: voice for voice, note in GM_DRUM_NOTES.items()}


@dataclass
class RenderResult:
    audio: np.ndarray  # (2, n_samples) float32, mastered
    stems: dict[str, np.ndarray]  # track name → (2, n_samples) as it sits in the mix
    sample_rate: int
    lufs: float
    true_peak_dbtp: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    stages_run: list[str] = field(default_factory=list)


def _note_arrays(track: Track, seconds_per_beat: float) -> tuple[np.ndarray, ...]:
    notes = track.notes
    pitch = np.array([n.pitch for n in notes], dtype=np.float64)
    onset = np.array([n.start_beat for n in notes], dtype=np.float64) * seconds_per_beat
    duration = np.array([n.duration_beats for n in notes], dtype=np.float64) * seconds_per_beat
    velocity = np.array([n.velocity for n in notes], dtype=np.float64) / 127.0
    return pitch, onset, duration, velocity


def _energy_envelope(score: Score, n_samples: int, sample_rate: int) -> np.ndarray:
    """A per-sample 0–1 curve of the plan's section energies, ramped over one beat at each change."""
    spb = score.seconds_per_beat
    bar_beats = score.beats_per_bar
    times: list[float] = []
    values: list[float] = []
    ramp = spb
    for section in score.sections:
        start = section.start_bar * bar_beats * spb
        times.extend([start, start + ramp])
        values.extend([values[-1] if values else section.energy_level, section.energy_level])
    times.append(n_samples / sample_rate)
    values.append(values[-1])
    t = np.arange(n_samples, dtype=np.float64) / sample_rate
    return np.asarray(np.interp(t, np.array(times), np.array(values)), dtype=np.float32)


def _unique_names(tracks: list[Track]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for track in tracks:
        base = track.name.lower().replace(" ", "_")
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return names


def render_score(
    score: Score,
    *,
    sample_rate: int,
    seed: int,
    drum_kit: str,
    sidechain: bool = False,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    progress: ProgressFn | None = None,
) -> RenderResult:
    """Synthesize every track of `score` and master the mix to the loudness target."""
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise ParameterError(
            f"sample rate {sample_rate} Hz is not supported; use one of "
            + ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES),
            field="sample_rate",
        )
    kb = load_knowledge()
    n_samples = round(score.duration_seconds * sample_rate)
    spb = score.seconds_per_beat
    timings: dict[str, float] = {}
    stems_in: list[StemInput] = []
    kick_onsets: list[float] = []
    names = _unique_names(score.tracks)
    t_synth = time.perf_counter()
    t_ddsp = 0.0
    t_drums = 0.0
    for index, (track, name) in enumerate(zip(score.tracks, names, strict=True)):
        rng = np.random.default_rng([seed, 1000 + index])
        pitch, onset, duration, velocity = _note_arrays(track, spb)
        start = time.perf_counter()
        if track.is_drum:
            voices = [_DRUM_VOICE_BY_NOTE.get(int(p), "snare") for p in pitch]
            inst = kb.instruments.get(track.instrument)
            kit = inst.kit if inst is not None and inst.kit else drum_kit
            audio = render_drum_hits(
                onset,
                voices,
                velocity,
                kit=kit,
                sample_rate=sample_rate,
                n_samples=n_samples,
                rng=rng,
            )
            kick_onsets.extend(float(o) for o, v in zip(onset, voices, strict=True) if v == "kick")
            t_drums += time.perf_counter() - start
        else:
            inst = kb.instruments.get(track.instrument)
            timbre = inst.timbre if inst is not None and inst.timbre else "piano"
            audio = render_notes(
                pitch, onset, duration, velocity,
                preset=load_timbre(timbre), sample_rate=sample_rate, n_samples=n_samples, rng=rng,
            )  # fmt: skip
            t_ddsp += time.perf_counter() - start
        pan, gain_db, send = _ROLE_MIX[track.role]
        stems_in.append(
            StemInput(
                name=name,
                role=track.role.value,
                audio=audio,
                pan=pan,
                gain_db=gain_db,
                reverb_send=send,
            )
        )
        if progress is not None:
            progress("synthesis", (index + 1) / max(1, len(score.tracks)))
    timings["ddsp"] = t_ddsp * 1000
    timings["drums"] = t_drums * 1000
    timings["synthesis"] = (time.perf_counter() - t_synth) * 1000

    start = time.perf_counter()
    envelope = _energy_envelope(score, n_samples, sample_rate)
    mixed = mix(
        stems_in,
        sample_rate=sample_rate,
        energy_envelope=envelope,
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        sidechain=sidechain and bool(kick_onsets),
        sidechain_onsets_s=np.array(sorted(kick_onsets)) if kick_onsets else None,
    )
    timings["mix"] = (time.perf_counter() - start) * 1000
    if progress is not None:
        progress("mix", 1.0)
    stages = ["ddsp"] + (["drums"] if t_drums else []) + ["mix"]
    return RenderResult(
        audio=mixed.audio,
        stems=mixed.stems,
        sample_rate=sample_rate,
        lufs=mixed.lufs,
        true_peak_dbtp=mixed.true_peak_dbtp,
        timings_ms=timings,
        stages_run=stages,
    )
