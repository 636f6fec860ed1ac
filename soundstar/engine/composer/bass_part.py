"""The bass line: the genre's bass groove played on each bar's chord."""

from __future__ import annotations

import math

import numpy as np

from soundstar.engine.composer.feel import swing_offset
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import bass_root, nearest_pitch
from soundstar.knowledge import BassGroove
from soundstar.models import Note
from soundstar.theory import Chord, parse_chord


def _degree_pitch(char: str, root: int, chord_intervals: tuple[int, ...]) -> int:
    third = next((i for i in chord_intervals if i in (3, 4)), 4)
    seventh = next((i for i in chord_intervals if i in (10, 11)), 10)
    fifth = next((i for i in chord_intervals if i in (6, 7, 8)), 7)
    return root + {"R": 0, "r": 0, "5": fifth, "3": third, "8": 12, "7": seventh}[char]


def _walk(
    root: int,
    next_root: int,
    beat: int,
    n_beats: int,
    intervals: tuple[int, ...],
    scale: tuple[int, ...],
) -> int:
    """A walking-bass note: root first, chord tones, a chromatic approach last."""
    if beat == 0:
        return root
    if beat == n_beats - 1:
        return next_root + (1 if next_root < root else -1)
    tones = [root + i for i in intervals if i != 0] + [root + 12]
    pitch = tones[(beat - 1) % len(tones)]
    if pitch % 12 not in scale:
        pitch = nearest_pitch(root % 12, pitch, pitch - 6, pitch + 6)
    return pitch


# Semitones above a chord's root of its third (minor, major) and fifth (diminished,
# perfect, augmented): a tonic pedal under a chord holding the tonic there is an inversion.
_TRIAD_STEPS = frozenset({3, 4, 6, 7, 8})
_PEDAL_STEPS = {"R": 0, "r": 0, "3": 0, "7": 0, "5": 7, "8": 12, "W": 0}


def _pedal_bar(timeline: Timeline, bar: int, chord: Chord, tonic_pc: int | None) -> bool:
    """Whether the bass holds the tonic in this bar instead of the chord's root.

    Where a section starts (the key is stated where the music arrives); and, when the
    chords alone do not state the key, under every chord the tonic below leaves whole: one
    whose third or fifth is the tonic (an inversion), or one that read up from the tonic is
    the tonic chord ("Eb6" in C minor sounds C, Eb, G, Bb). Any other chord keeps its
    root: over a tonic pedal, the "G#m" asked in C# minor or the D7 asked in C major (its
    seventh the tonic) would sound as another chord.
    """
    if tonic_pc is None or chord.root_pc == tonic_pc or bar == timeline.final_bar:
        return False
    if timeline.is_section_start(bar):
        return True
    if timeline.key_stated or timeline.key is None:
        return False
    if tonic_pc not in chord.pitch_classes:
        return False
    if (tonic_pc - chord.root_pc) % 12 in _TRIAD_STEPS:
        return True
    from_tonic = {(pc - tonic_pc) % 12 for pc in chord.pitch_classes}
    return 7 in from_tonic and bool(from_tonic & {3, 4})


def write_bass(
    timeline: Timeline,
    groove: BassGroove,
    register: tuple[int, int],
    scale: tuple[int, ...],
    rng: np.random.Generator,
    *,
    swing: float,
    tonic_pc: int | None = None,
    keep_pulse: bool = False,
) -> list[Note]:
    """The groove on each bar's chord; with `tonic_pc`, a tonic pedal (same rhythm, tonic
    and its fifth) opens every section whose first chord is not the tonic chord, and
    holds on where the chords alone do not state the key (see `_pedal_bar`).

    Quiet sections hold one note a bar, unless `keep_pulse` (the bass carries the beat)."""
    lo, hi = register
    lo, hi = max(lo, 24), min(hi, 60)
    steps = groove.steps
    step_beats = timeline.beats_per_bar / steps
    steps_per_beat = steps / timeline.beats_per_bar
    notes: list[Note] = []
    for bar in range(timeline.n_bars):
        chord = parse_chord(timeline.chords[bar])
        root = bass_root(chord, lo, hi)
        next_symbol = (
            timeline.chords[bar + 1] if bar + 1 < timeline.n_bars else timeline.chords[bar]
        )
        next_root = bass_root(parse_chord(next_symbol), lo, hi)
        start = timeline.bar_start(bar)
        energy = timeline.section_of(bar).energy
        pedal = _pedal_bar(timeline, bar, chord, tonic_pc)
        if pedal and tonic_pc is not None:
            root = nearest_pitch(tonic_pc, root, lo, hi)
        velocity_scale = 0.75 + 0.25 * energy
        if bar == timeline.final_bar or (energy < 0.25 and not keep_pulse):
            length = timeline.bar_length(bar)
            notes.append(
                Note(
                    pitch=root,
                    start_beat=start,
                    duration_beats=length,
                    velocity=int(92 * velocity_scale),
                )
            )
            continue
        events: list[list[float]] = []  # [onset, duration, pitch, velocity, glides (0/1)]
        walking_beats = [i for i, c in enumerate(groove.pattern) if c == "W"]
        for step, char in enumerate(groove.pattern[:steps]):
            onset = (
                start + step * step_beats + swing_offset(step, steps_per_beat, swing, step_beats)
            )
            if char == "-":
                if events:
                    events[-1][1] += step_beats
                continue
            if char == ".":
                continue
            if pedal and char in _PEDAL_STEPS:
                pitch = root + _PEDAL_STEPS[char]
            elif char == "W":
                pitch = _walk(
                    root,
                    next_root,
                    walking_beats.index(step),
                    len(walking_beats),
                    chord.intervals,
                    scale,
                )
            elif char == "a":
                pitch = next_root + (1 if rng.random() < 0.5 else -1)
            else:
                pitch = _degree_pitch(char, root, chord.intervals)
            accent = 1.0 if step == 0 else (0.8 if char == "r" else 0.9)
            duration = step_beats * (0.5 if char == "r" else 0.92)
            glide = float(groove.glides_at(step))
            events.append([onset, duration, float(pitch), 100 * accent * velocity_scale, glide])
        for onset, duration, raw_pitch, vel, glide in events:
            pitch = int(raw_pitch)
            while pitch > hi:
                pitch -= 12
            while pitch < lo:
                pitch += 12
            length = round(max(duration, 0.05), 6)
            notes.append(
                Note(
                    pitch=int(pitch),
                    start_beat=round(onset, 6),
                    duration_beats=length,
                    velocity=int(np.clip(vel + rng.normal(0, 3), 30, 127)),
                    **_glide(notes[-1] if notes else None, pitch, glide > 0, groove, length),
                )
            )
    return notes


def _glide(
    previous: Note | None, pitch: int, marked: bool, groove: BassGroove, length: float
) -> dict[str, float | int]:
    """The glide fields of a note the groove marks as sliding: from the pitch the line
    last sounded (after its folding into the register), over the groove's glide time or
    the note's length if shorter; none where there is nothing to slide from."""
    if not marked or previous is None or previous.pitch == pitch:
        return {}
    return {"glide_from": previous.pitch, "glide_beats": min(groove.glide_beats, length)}


def marks_every_beat(groove: BassGroove, beats_per_bar: float) -> bool:
    """Whether the groove plays a note on every beat of the bar (it can carry the beat)."""
    per_beat = groove.steps / beats_per_bar
    if not per_beat.is_integer() or per_beat < 1:
        return False
    return all(
        groove.pattern[round(beat * per_beat)] not in "-." for beat in range(round(beats_per_bar))
    )


def beat_bass(beats_per_bar: float, meter: str) -> BassGroove:
    """The root on every beat: the bass that carries the pulse when no drums play."""
    beats = max(round(beats_per_bar), 1)
    return BassGroove.model_validate(
        {
            "id": "root_every_beat",
            "name": "root on every beat",
            "meter": meter,
            "steps": beats * 2,
            "pattern": "R-" * beats,
        }
    )


def basic_bass(beats_per_bar: float, numerator: int) -> BassGroove:
    """Root on the downbeat, fifth on the beat nearest halfway (beat 3 of 3/4 and of 5/4,
    never the off-beat in the middle of an odd bar): fits any meter."""
    per_beat = 2
    steps = round(beats_per_bar * per_beat)
    fifth = per_beat * math.ceil(beats_per_bar / 2 - 1e-9)
    pattern = ["."] * steps
    pattern[0] = "R"
    for i in range(1, min(fifth, steps)):
        pattern[i] = "-"
    if steps >= 4 and fifth < steps:
        pattern[fifth] = "5"
    return BassGroove.model_validate(
        {
            "id": f"basic_{numerator}",
            "name": "basic",
            "meter": f"{numerator}/4",
            "steps": steps,
            "pattern": "".join(pattern),
        }
    )
