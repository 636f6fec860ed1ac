"""A second melody instrument's part, written from the lead's: it harmonises the lead in
energetic sections and answers it in the quiet ones.

Two melody instruments each given a melody of their own play two unrelated tunes at
once (a fiddle against a pedal steel, a male against a female voice). Arrangers pair
them instead: the second voice sings a third or a sixth under the first in the chorus,
and fills the bars where the first holds a note (call and response) in the verse.
"""

from __future__ import annotations

import bisect
import itertools

import numpy as np

from soundstar.engine.composer.melody import (
    bar_scale,
    melody_range,
    phrase_velocity,
    step_in_scale,
)
from soundstar.engine.composer.timeline import SectionSpan, Timeline
from soundstar.engine.composer.voicing import into_register, nearest_chord_tone, nearest_pitch
from soundstar.models import Note
from soundstar.theory import Chord, parse_chord

HARMONY_ENERGY = 0.55
"""Sections at least this energetic are harmonised; quieter ones are answered."""
HARSH_INTERVALS = frozenset({1, 6, 11})
"""Interval classes (semitones, mod 12) that a second voice never sounds against the lead."""
_THIRD_FIRST = (3, 4, 8, 9, 5, 7)  # semitones under the lead, most wanted first
_SIXTH_FIRST = (8, 9, 3, 4, 7, 5)
_SMALL_LEAP = 4  # semitones: a harmony line moving this far or less is moving smoothly
_HARMONY_VELOCITY = 0.9
_ANSWER_VELOCITY = 0.85
_HELD = 0.5  # a lead note this long (of the bar), struck alone on the downbeat, is held


def _bar_of(timeline: Timeline, beat: float) -> int:
    return min(int(beat // timeline.beats_per_bar), timeline.n_bars - 1)


def _harmony_pitch(
    lead: Note,
    chord: Chord,
    scale_pcs: list[int],
    strong: bool,
    voice: int,
    register: tuple[int, int],
    previous: int | None,
) -> int:
    """A third under the lead (a sixth for the second partner), else the other of the two,
    else a fourth or a fifth: a chord tone on a strong beat, a scale tone between them.
    Moved into the register by octaves; of the intervals that fit, the one nearest the
    previous harmony note wins when a less wanted one saves a leap of more than a third."""
    pool = chord.pitch_classes if strong else tuple(scale_pcs)
    gaps = _THIRD_FIRST if voice % 2 == 1 else _SIXTH_FIRST
    fitting = [
        (rank, into_register(lead.pitch - gap, *register))
        for rank, gap in enumerate(gaps)
        if (lead.pitch - gap) % 12 in pool
    ]
    if not fitting:
        return into_register(nearest_pitch(chord.root_pc, lead.pitch - gaps[0], 0, 127), *register)
    if previous is None:
        return fitting[0][1]
    return min(fitting, key=lambda rp: (max(abs(rp[1] - previous), _SMALL_LEAP), rp[0]))[1]


def _harmony(
    timeline: Timeline,
    lead: list[Note],
    scale: tuple[int, ...],
    register: tuple[int, int],
    voice: int,
) -> list[Note]:
    notes: list[Note] = []
    for note in lead:
        bar = _bar_of(timeline, note.start_beat)
        chord = parse_chord(timeline.chords[bar])
        onset = note.start_beat - timeline.bar_start(bar)
        pitch = _harmony_pitch(
            note,
            chord,
            bar_scale(scale, chord.pitch_classes),
            timeline.pulse.is_strong(onset),
            voice,
            register,
            notes[-1].pitch if notes else None,
        )
        velocity = max(1, int(note.velocity * _HARMONY_VELOCITY))
        notes.append(note.model_copy(update={"pitch": pitch, "velocity": velocity}))
    return notes


def _held_bars(timeline: Timeline, span: SectionSpan, lead: list[Note]) -> list[int]:
    """Bars of the span in which the lead strikes one note on the downbeat and holds it."""
    held = []
    for bar in range(span.start_bar, span.end_bar):
        start, length = timeline.bar_start(bar), timeline.bar_length(bar)
        inside = [n for n in lead if start <= n.start_beat < start + length]
        if (
            len(inside) == 1
            and abs(inside[0].start_beat - start) < 1e-6
            and inside[0].duration_beats >= _HELD * length
        ):
            held.append(bar)
    return held


def _last_motif(timeline: Timeline, lead: list[Note], before_bar: int) -> list[Note]:
    """The lead's notes in the latest bar before `before_bar` that played a motif (≥ 3 notes)."""
    for bar in range(before_bar - 1, -1, -1):
        start, end = timeline.bar_start(bar), timeline.bar_start(bar + 1)
        inside = [n for n in lead if start <= n.start_beat < end]
        if len(inside) >= 3:
            return inside
    return []


def _degree_steps(pitches: list[int], scale_pcs: list[int]) -> list[int]:
    """Scale steps between successive pitches (a chromatic note counts as the scale tone
    under it)."""

    def degree(pitch: int) -> int:
        octave, pc = divmod(pitch, 12)
        below = [i for i, s in enumerate(scale_pcs) if s <= pc]
        return octave * len(scale_pcs) + (below[-1] if below else -1)

    return [degree(b) - degree(a) for a, b in itertools.pairwise(pitches)]


def _answer(
    timeline: Timeline,
    bar: int,
    motif: list[Note],
    scale: tuple[int, ...],
    lo: int,
    hi: int,
    velocity: float,
) -> list[Note]:
    """The lead's last motif played back in the bar where the lead holds: its rhythm after
    the lead's attack (shifted by a beat when too little of it is left), its contour in
    the bar's scale (a chord tone on a strong beat), from the chord tone nearest the motif's
    own first note."""
    pulse = timeline.pulse
    start, length = timeline.bar_start(bar), timeline.bar_length(bar)
    first_bar = _bar_of(timeline, motif[0].start_beat)
    rhythm = [
        (n.start_beat - timeline.bar_start(first_bar), n.duration_beats, n.pitch) for n in motif
    ]
    after = [r for r in rhythm if r[0] >= pulse.beat - 1e-6]
    if len(after) < 2:
        after = [(o + pulse.beat, d, p) for o, d, p in rhythm if o + pulse.beat < length - 1e-6]
    if not after:
        return []
    chord = parse_chord(timeline.chords[bar])
    scale_pcs = bar_scale(scale, chord.pitch_classes)
    steps = _degree_steps([p for _, _, p in after], scale_pcs)
    pitch = nearest_chord_tone(into_register(after[0][2], lo, hi), chord, lo, hi)
    notes = []
    for k, (onset, duration, _) in enumerate(after):
        if k > 0:
            pitch = step_in_scale(pitch, steps[k - 1], scale_pcs, lo, hi)
        if pulse.is_strong(onset):
            pitch = nearest_chord_tone(pitch, chord, lo, hi)
        accent = 1.0 if pulse.on_beat(onset) else 0.9
        notes.append(
            Note(
                pitch=pitch,
                start_beat=round(start + onset, 6),
                duration_beats=round(min(duration, length - onset), 6),
                velocity=int(np.clip(velocity * accent, 30, 127)),
            )
        )
    return notes


def _clears_lead(
    timeline: Timeline,
    notes: list[Note],
    lead: list[Note],
    scale: tuple[int, ...],
    lo: int,
    hi: int,
) -> list[Note]:
    """Each partner note moved to the nearest tone of its bar's scale (or chord) that sounds
    no harsh interval against a lead note overlapping it; kept when none is found."""
    starts = [n.start_beat for n in lead]  # the lead is in time order
    longest = max((n.duration_beats for n in lead), default=0.0)
    out = []
    for note in notes:
        end = note.start_beat + note.duration_beats
        first = bisect.bisect_left(starts, note.start_beat - longest)
        last = bisect.bisect_left(starts, end - 1e-6)
        against = [
            n.pitch
            for n in lead[first:last]
            if n.start_beat + n.duration_beats > note.start_beat + 1e-6
        ]

        def clashes(pitch: int, against: list[int] = against) -> bool:
            return any(abs(pitch - p) % 12 in HARSH_INTERVALS for p in against)

        if against and clashes(note.pitch):
            bar = _bar_of(timeline, note.start_beat)
            chord = parse_chord(timeline.chords[bar])
            pcs = set(bar_scale(scale, chord.pitch_classes)) | set(chord.pitch_classes)
            candidates = [
                note.pitch + d
                for d in sorted(range(-5, 6), key=abs)
                if lo <= note.pitch + d <= hi
                and (note.pitch + d) % 12 in pcs
                and not clashes(note.pitch + d)
            ]
            if candidates:
                note = note.model_copy(update={"pitch": candidates[0]})
        out.append(note)
    return out


def write_partner(
    timeline: Timeline,
    lead: list[Note],
    register: tuple[int, int],
    scale: tuple[int, ...],
    voice: int = 1,
) -> list[Note]:
    """The part of the `voice`-th melody instrument after the lead (1 for the first
    partner): an answer in every bar where the lead holds a note, and, in sections of
    energy ≥ HARMONY_ENERGY, a third (the second partner a sixth) under the rest of the
    lead; the final chord is sung in harmony. Silent wherever the lead is."""
    if voice < 1:
        raise ValueError(f"a partner voice counts from 1, got {voice}")
    lo, hi = melody_range(register)
    lead = sorted(lead, key=lambda n: n.start_beat)
    notes: list[Note] = []
    final_bar = timeline.final_bar
    for span in timeline.sections:
        begin = timeline.bar_start(span.start_bar)
        end = timeline.bar_start(span.end_bar) if span.end_bar < timeline.n_bars else float("inf")
        in_span = [n for n in lead if begin <= n.start_beat < end]
        if not in_span:
            continue
        held = _held_bars(timeline, span, in_span)
        if span.energy >= HARMONY_ENERGY:
            sung = [n for n in in_span if _bar_of(timeline, n.start_beat) not in held]
            notes += _harmony(timeline, sung, scale, (lo, hi), voice)
        velocity = phrase_velocity(span.energy) * _ANSWER_VELOCITY
        for bar in held:
            if bar == final_bar:
                final = [n for n in in_span if n.start_beat >= timeline.bar_start(bar)]
                notes += _harmony(timeline, final, scale, (lo, hi), voice)
                continue
            motif = _last_motif(timeline, lead, bar)
            if motif:
                notes += _answer(timeline, bar, motif, scale, lo, hi, velocity)
    return _clears_lead(timeline, notes, lead, scale, lo, hi)
