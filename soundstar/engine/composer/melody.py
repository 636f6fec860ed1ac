"""The lead melody: one-bar motifs that return and vary, in four-bar phrases that cadence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundstar.engine.composer.character import MelodyShape
from soundstar.engine.composer.feel import SLOW_BPM, VERY_SLOW_BPM
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import nearest_chord_tone, nearest_pitch
from soundstar.keys import KK_MAJOR, KK_MINOR
from soundstar.models import Note
from soundstar.theory import Chord, parse_chord

_STEP_CHOICES = np.array([-3, -2, -1, 0, 1, 2, 3])
_STEP_WEIGHTS = np.array([0.05, 0.17, 0.25, 0.08, 0.25, 0.15, 0.05])
_NEUTRAL = MelodyShape()
_RESTING_SECTIONS = ("intro",)
# How often, and how loud, the melody moves between beats at slow tempi (as the drums do):
# a line in running eighths at 60 BPM is heard, and measured, at 120.
_OFFBEAT_CHANCE = 0.8
_SLOW_OFFBEAT_CHANCE = 0.5
_VERY_SLOW_OFFBEAT_CHANCE = 0.25
_OFFBEAT_ACCENT = 0.88
_SLOW_OFFBEAT_ACCENT = 0.78


@dataclass(frozen=True)
class Motif:
    """A bar's rhythm (onset, duration in beats) and the scale steps between its notes."""

    rhythm: tuple[tuple[float, float], ...]
    contour: tuple[int, ...]

    def varied(self, rng: np.random.Generator, weights: np.ndarray = _STEP_WEIGHTS) -> Motif:
        """The same rhythm with the contour inverted or its tail re-drawn: heard as the same idea."""
        if rng.random() < 0.5:
            return Motif(self.rhythm, tuple(-s for s in self.contour))
        keep = max(1, len(self.contour) // 2)
        tail = rng.choice(_STEP_CHOICES, size=len(self.contour) - keep, p=weights)
        return Motif(self.rhythm, self.contour[:keep] + tuple(int(s) for s in tail))


def step_weights(shape: MelodyShape) -> np.ndarray:
    """The chance of each step (-3..3 scale degrees) for a tune of this shape: leaps
    scaled by `shape.leap`, rising steps made likelier by `shape.lean` (falling ones less)."""
    weights = _STEP_WEIGHTS * np.where(np.abs(_STEP_CHOICES) >= 2, shape.leap, 1.0)
    weights = weights * (1.0 + 4.0 * shape.lean * np.sign(_STEP_CHOICES))
    weights = np.clip(weights, 1e-3, None)
    return np.asarray(weights / weights.sum())


def offbeat_chance(tempo_bpm: float | None) -> float:
    """Relative chance of a motif note between beats: lower at slow tempi, so the beat and
    not its eighths stays the pulse the line is heard in."""
    if tempo_bpm is None or tempo_bpm >= SLOW_BPM:
        return _OFFBEAT_CHANCE
    return _SLOW_OFFBEAT_CHANCE if tempo_bpm >= VERY_SLOW_BPM else _VERY_SLOW_OFFBEAT_CHANCE


def make_motif(
    rng: np.random.Generator,
    pulse: Pulse,
    density: float,
    tempo_bpm: float | None = None,
    weights: np.ndarray = _STEP_WEIGHTS,
) -> Motif:
    """A one-bar idea on an eighth grid: onsets drawn by `density` (between the felt beats
    less often at slow tempi), at least three notes, steps between them mostly small."""
    slot = 0.5
    between = offbeat_chance(tempo_bpm)
    n_slots = max(2, round(pulse.beats_per_bar / slot))
    onsets = [0 if rng.random() < 0.75 else 1]
    for i in range(onsets[0] + 1, n_slots):
        on_beat = pulse.on_beat(i * slot)
        if rng.random() < density * (1.15 if on_beat else between):
            onsets.append(i)
    while len(onsets) < 3 and len(onsets) < n_slots:
        candidates = [i for i in range(n_slots) if i not in onsets]
        onsets.append(int(rng.choice(candidates)))
        onsets.sort()
    rhythm = []
    for k, i in enumerate(onsets):
        end = onsets[k + 1] if k + 1 < len(onsets) else n_slots
        length = min((end - i) * slot, 1.5)
        rhythm.append((i * slot, length * (0.92 if end < n_slots else 0.8)))
    contour = tuple(int(s) for s in rng.choice(_STEP_CHOICES, size=len(rhythm) - 1, p=weights))
    return Motif(tuple(rhythm), contour)


def bar_scale(scale: tuple[int, ...], chord_pcs: tuple[int, ...]) -> list[int]:
    """The key's scale with any note a semitone from a chord tone replaced by that tone."""
    out = []
    for pc in scale:
        clash = next((c for c in chord_pcs if (c - pc) % 12 in (1, 11) and c not in scale), None)
        out.append(clash if clash is not None else pc)
    return sorted(set(out))


def _resting_pc(chord: Chord, tonic_pc: int, timeline: Timeline) -> int:
    """Where a phrase comes to rest: the tonic when the chord holds it (or, when the
    chords alone do not state the key, when it clashes with no chord tone); else the
    chord tone most stable in the key (the root when the key is unknown)."""
    pcs = chord.pitch_classes
    if tonic_pc in pcs:
        return tonic_pc
    key = timeline.key
    if key is None:
        return chord.root_pc
    if not timeline.key_stated and not any((pc - tonic_pc) % 12 in (1, 11) for pc in pcs):
        return tonic_pc
    return max(pcs, key=lambda pc: (key.stability(pc), pc == chord.root_pc))


def step_in_scale(pitch: int, steps: int, scale_pcs: list[int], lo: int, hi: int) -> int:
    """Move `steps` scale degrees from `pitch`, bouncing back at the register's edges."""
    direction = 1 if steps > 0 else -1
    for _ in range(abs(steps)):
        candidate = pitch + direction
        while candidate % 12 not in scale_pcs:
            candidate += direction
        if candidate > hi or candidate < lo:
            direction = -direction
            candidate = pitch + direction
            while candidate % 12 not in scale_pcs:
                candidate += direction
        pitch = candidate
    return pitch


def phrase_velocity(energy: float) -> float:
    """How hard a tune is played in a section of this energy (0-1)."""
    return 78 + 30 * energy


def melody_range(register: tuple[int, int]) -> tuple[int, int]:
    """Where an instrument sings a tune: its register within G3-E6 (C4-C6 when that leaves
    less than an octave)."""
    lo, hi = max(register[0], 57), min(register[1], 88)
    return (60, 84) if hi - lo < 12 else (lo, hi)


def coloured_tone(pitch: int, chord: Chord, tonic_pc: int, major: bool, lo: int, hi: int) -> int:
    """The chord tone within a fourth of `pitch` that tells major from minor most (the
    major key profile over the minor's on the tonic, or the reverse): a bright tune leans
    on the major third and sixth, a dark one on the minor third, sixth and seventh."""
    sign = 1.0 if major else -1.0
    near = [nearest_pitch(pc, pitch, lo, hi) for pc in chord.pitch_classes]
    near = [p for p in near if abs(p - pitch) <= 5] or [pitch]

    def telling(p: int) -> tuple[float, int]:
        degree = (p - tonic_pc) % 12
        return sign * (KK_MAJOR[degree] - KK_MINOR[degree]), -abs(p - pitch)

    return max(near, key=telling)


def shifted_range(
    sung: tuple[int, int], register: tuple[int, int], shift: float
) -> tuple[int, int]:
    """The tune's range moved by `shift` semitones, as far as the instrument reaches."""
    lo, hi = sung
    move = round(shift)
    move = min(move, register[1] - hi) if move > 0 else max(move, register[0] - lo)
    move = move if (move > 0) == (shift > 0) else 0
    return lo + move, hi + move


def section_centre(energy: float, lo: int, hi: int) -> float:
    """Where a section's tune starts in the range: low in a quiet verse, high in a full
    chorus, so a final chorus is sung at least as high as the first (the register follows
    the plan's energy; the walk within the section is the motif's)."""
    return lo + (hi - lo) * (0.25 + 0.5 * energy)


def write_melody(
    timeline: Timeline,
    register: tuple[int, int],
    scale: tuple[int, ...],
    tonic_pc: int,
    rng: np.random.Generator,
    shape: MelodyShape = _NEUTRAL,
) -> list[Note]:
    """The tune, its range moved and its steps leaning as `shape` says (the valence)."""
    lo, hi = shifted_range(melody_range(register), register, shape.shift)
    weights = step_weights(shape)
    centre = (lo + hi) / 2
    pitch = nearest_pitch(tonic_pc, centre, lo, hi)
    motifs: dict[str, Motif] = {}
    has_loud = any(s.energy >= 0.3 for s in timeline.sections)
    slow = timeline.tempo_bpm is not None and timeline.tempo_bpm < SLOW_BPM
    offbeat_accent = _SLOW_OFFBEAT_ACCENT if slow else _OFFBEAT_ACCENT
    pulse = timeline.pulse
    notes: list[Note] = []
    for span in timeline.sections:
        if (
            (span.name.lower().startswith(_RESTING_SECTIONS) or span.energy < 0.2)
            and has_loud
            and len(timeline.sections) > 1
        ):
            continue
        density = 0.3 + 0.45 * span.energy
        pitch = nearest_pitch(pitch % 12, section_centre(span.energy, lo, hi), lo, hi)
        key = span.name.lower().rstrip("0123456789 ")
        motif = motifs.setdefault(key, make_motif(rng, pulse, density, timeline.tempo_bpm, weights))
        for bar in range(span.start_bar, span.end_bar):
            chord = parse_chord(timeline.chords[bar])
            scale_pcs = bar_scale(scale, chord.pitch_classes)
            start = timeline.bar_start(bar)
            vel = phrase_velocity(span.energy)
            position = (bar - span.start_bar) % 4
            if bar == timeline.final_bar:
                pitch = nearest_pitch(tonic_pc, pitch, lo, hi)
                notes.append(
                    Note(
                        pitch=pitch,
                        start_beat=start,
                        duration_beats=timeline.bar_length(bar) * 0.9,
                        velocity=int(vel),
                    )
                )
                continue
            if position == 3 or bar == span.end_bar - 1:
                target_pc = _resting_pc(chord, tonic_pc, timeline)
                pitch = nearest_pitch(target_pc, pitch, lo, hi)
                notes.append(
                    Note(
                        pitch=pitch,
                        start_beat=start,
                        duration_beats=timeline.beats_per_bar * 0.7,
                        velocity=int(vel * 0.95),
                    )
                )
                continue
            bar_motif = motif.varied(rng, weights) if position == 1 else motif
            for k, (onset, duration) in enumerate(bar_motif.rhythm):
                if k > 0:
                    pitch = step_in_scale(pitch, bar_motif.contour[k - 1], scale_pcs, lo, hi)
                strong = pulse.is_strong(onset)
                if strong:
                    pitch = nearest_chord_tone(pitch, chord, lo, hi)
                    if rng.random() < abs(shape.pull):
                        pitch = coloured_tone(pitch, chord, tonic_pc, shape.pull > 0, lo, hi)
                accent = 1.0 if strong else (0.88 if pulse.on_beat(onset) else offbeat_accent)
                notes.append(
                    Note(
                        pitch=pitch,
                        start_beat=round(start + onset, 6),
                        duration_beats=round(duration, 6),
                        velocity=int(np.clip(vel * accent + rng.normal(0, 3), 30, 127)),
                    )
                )
    return notes
