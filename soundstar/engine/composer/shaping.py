"""Energy and danceability heard across the parts once every writer has written.

`shape_parts` reshapes the written parts as the piece's character asks, in one pass:

- energy: parts of the kinds data/character.yaml lists rest in sections below their
  threshold (the lineup thins), drum strokes and chord hits off the downbeat thin out in
  quiet sections, and every note is played harder or softer with its section's energy;
- danceability: at high values the kick marks the felt beats the groove leaves empty and
  the bass moves onto the kick; at low values drum strokes off the downbeat drop out and
  every part drifts together off the grid (rubato-like) with a little noise;
- valence: a small velocity lift (a brighter, more forward tone).

The style's groove stays the groove: strokes are only kept, dropped or moved, and kicks
are added only to a kit whose groove has a kick.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from soundstar.engine.composer.arrange import Part, PartKind
from soundstar.engine.composer.character import Character
from soundstar.engine.composer.comping import is_idiom
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.models import Note

KICK = GM_DRUM_NOTES["kick"]
_KICKS = frozenset({35, KICK})
_SAME = 1e-3  # beats: onsets this close are one stroke
_STRUM = 0.12  # beats: notes starting this close to a chord's first are the same chord (a strum)
_THINNED = frozenset({PartKind.CHORDS, PartKind.ARPEGGIO})
_LOCKED = frozenset({PartKind.BASS, PartKind.DOUBLE})


def _bar(timeline: Timeline, beat: float) -> int:
    return min(max(int(beat // timeline.beats_per_bar), 0), timeline.n_bars - 1)


def _energy(timeline: Timeline, beat: float) -> float:
    return timeline.section_of(_bar(timeline, beat)).energy


def _downbeat(timeline: Timeline, beat: float) -> bool:
    into = beat - timeline.bar_start(_bar(timeline, beat))
    return abs(into) < _SAME


def _rest(
    parts: Sequence[Part], notes: list[list[Note]], timeline: Timeline, character: Character
) -> list[list[Note]]:
    """Parts of the listed kinds rest in sections quieter than their threshold; a section
    every part would leave silent keeps its parts."""
    limits = character.data.energy.rests_below
    out: list[list[Note]] = []
    for part, written in zip(parts, notes, strict=True):
        limit = limits.get(part.kind.value)
        if limit is None or part.keeps_beat:
            out.append(written)
            continue
        out.append([n for n in written if _energy(timeline, n.start_beat) >= limit])
    for span in timeline.sections:
        lo, hi = timeline.bar_start(span.start_bar), timeline.bar_start(span.end_bar)
        heard = any(lo <= n.start_beat < hi for kept in out for n in kept)
        if not heard:
            for i, written in enumerate(notes):
                out[i] = sorted(
                    out[i] + [n for n in written if lo <= n.start_beat < hi],
                    key=lambda n: n.start_beat,
                )
    return out


def _groups(notes: list[Note]) -> list[list[Note]]:
    """Notes struck together (a chord, a strum, a stroke with its flam) in order of onset."""
    groups: list[list[Note]] = []
    for note in sorted(notes, key=lambda n: n.start_beat):
        if groups and note.start_beat - groups[-1][0].start_beat < _STRUM:
            groups[-1].append(note)
        else:
            groups.append([note])
    return groups


def plays_figure(part: Part) -> bool:
    """Whether the part plays one of the idioms' figures (comping data `figures`)."""
    return part.style is not None and is_idiom(part.style)


def _thin(
    part: Part,
    notes: list[Note],
    timeline: Timeline,
    character: Character,
    rng: np.random.Generator,
) -> list[Note]:
    """Drum strokes and chord hits between the felt beats kept with a chance that falls
    with the section's energy (a quiet player keeps the beat, drops the subdivisions);
    with a loose groove, drum strokes off the downbeats drop out too (no steady beat). A
    part playing an idiom's figure (a banjo roll, palm-muted chugs) keeps every stroke: the
    figure is the idiom, so energy reaches it through velocity alone."""
    if part.keeps_beat or not (part.is_drum or part.kind in _THINNED) or plays_figure(part):
        return notes
    thin_below = character.data.energy.thin_below
    loose = character.looseness * character.data.danceability.drop_at_zero if part.is_drum else 0.0
    last = timeline.bar_start(timeline.n_bars - 1)
    pulse = timeline.pulse
    kept: list[Note] = []
    for group in _groups(notes):
        onset = group[0].start_beat
        into = onset - timeline.bar_start(_bar(timeline, onset))
        quiet = 1.0 if pulse.on_beat(into) else min(1.0, _energy(timeline, onset) / thin_below)
        if onset >= last or _downbeat(timeline, onset) or rng.random() < quiet * (1.0 - loose):
            kept.extend(group)
    return kept


def _busier(
    notes: list[Note], timeline: Timeline, character: Character, rng: np.random.Generator
) -> list[Note]:
    """A chord part pushed in loud sections: each hit that rings past the next felt beat is
    struck again on the beats it holds, with a chance that rises with the energy."""
    above = character.data.energy.busy_above
    beat = timeline.pulse.beat
    last = timeline.bar_start(timeline.n_bars - 1)
    out: list[Note] = []
    for group in _groups(notes):
        onset = group[0].start_beat
        length = max(n.duration_beats for n in group)
        chance = (_energy(timeline, onset) - above) / (1.0 - above)
        if onset >= last or length <= beat * 1.01 or rng.random() >= chance:
            out.extend(group)
            continue
        strikes = int(length / beat + 1e-6)
        for k in range(strikes):
            out.extend(
                n.retimed(
                    start_beat=round(n.start_beat + k * beat, 6),
                    duration_beats=round(beat * 0.9, 6),
                    glide=k == 0,
                )
                for n in group
            )
    return out


def _add_kicks(notes: list[Note], timeline: Timeline, character: Character) -> list[Note]:
    """The kick on the felt beats the groove leaves empty (the strong ones, or every one at
    the top of the range), in the bars the kit plays, where its groove has a kick."""
    which = character.added_kicks
    kicks = [n for n in notes if n.pitch in _KICKS]
    if which == "none" or not kicks:
        return notes
    velocity = int(
        np.median([n.velocity for n in kicks]) * character.data.danceability.added_kick_velocity
    )
    pulse = timeline.pulse
    beats = [b for b in pulse.onsets() if which == "every" or pulse.is_strong(b)]
    struck = {round(n.start_beat / _SAME) for n in kicks}
    playing = {_bar(timeline, n.start_beat) for n in notes}
    added = []
    for bar in sorted(playing - {timeline.n_bars - 1}):
        for beat in beats:
            at = timeline.bar_start(bar) + beat
            if round(at / _SAME) not in struck and at < timeline.bar_start(bar + 1):
                added.append(
                    Note(
                        pitch=KICK, start_beat=round(at, 6), duration_beats=0.25, velocity=velocity
                    )
                )
    return notes + added


def _lock(notes: list[Note], kicks: list[float], window: float) -> list[Note]:
    """Bass notes within `window` beats of a kick moved onto it (ending where they ended);
    a note that would land where another already starts is left out."""
    if not kicks:
        return notes
    onsets = np.array(sorted(kicks))
    out: list[Note] = []
    taken: set[int] = set()
    for note in sorted(notes, key=lambda n: n.start_beat):
        i = int(np.argmin(np.abs(onsets - note.start_beat)))
        kick = float(onsets[i])
        start = note.start_beat
        if 0 < abs(kick - start) <= window:
            start = kick
        slot = round(start / _SAME)
        if slot in taken:
            continue
        taken.add(slot)
        end = note.start_beat + note.duration_beats
        out.append(
            note.retimed(start_beat=round(start, 6), duration_beats=round(max(end - start, 0.1), 6))
        )
    return out


def _drift(
    timeline: Timeline, character: Character, rng: np.random.Generator
) -> tuple[float, float]:
    """The band's shared rubato: (amplitude in beats, phase) of a drift two bars long."""
    amplitude = character.data.danceability.rubato_beats * character.looseness
    return amplitude, float(rng.uniform(0, 2 * math.pi))


def _loosen(
    notes: list[Note],
    timeline: Timeline,
    character: Character,
    drift: tuple[float, float],
    rng: np.random.Generator,
) -> list[Note]:
    """Every note moved by the shared drift and a little noise of its own (a chord's notes
    together); nothing moves before the start."""
    amplitude, phase = drift
    noise = character.data.danceability.jitter_beats * character.looseness
    period = 2 * timeline.beats_per_bar
    out: list[Note] = []
    for group in _groups(notes):
        onset = group[0].start_beat
        offset = amplitude * math.sin(2 * math.pi * onset / period + phase) + rng.normal(0, noise)
        out.extend(
            n.model_copy(update={"start_beat": round(max(0.0, n.start_beat + offset), 6)})
            for n in group
        )
    return out


def _played(notes: list[Note], timeline: Timeline, character: Character) -> list[Note]:
    """Each note as hard as its section's energy (and the valence's lift) asks."""
    shift = character.velocity_shift
    return [
        n.model_copy(
            update={
                "velocity": int(
                    np.clip(
                        round(
                            n.velocity * character.velocity_factor(_energy(timeline, n.start_beat))
                        )
                        + shift,
                        1,
                        127,
                    )
                )
            }
        )
        for n in notes
    ]


def shape_parts(
    parts: Sequence[Part],
    notes: Sequence[list[Note]],
    timeline: Timeline,
    character: Character,
    rng: np.random.Generator,
) -> list[list[Note]]:
    """Every part's notes as the piece's energy, danceability and valence shape them."""
    shaped = _rest(parts, list(notes), timeline, character)
    shaped = [_thin(p, n, timeline, character, rng) for p, n in zip(parts, shaped, strict=True)]
    shaped = [
        _busier(n, timeline, character, rng) if p.kind == PartKind.CHORDS else n
        for p, n in zip(parts, shaped, strict=True)
    ]
    shaped = [
        _add_kicks(n, timeline, character) if p.kind == PartKind.KIT else n
        for p, n in zip(parts, shaped, strict=True)
    ]
    if character.locked:
        kicks = [
            n.start_beat
            for p, ns in zip(parts, shaped, strict=True)
            if p.is_drum
            for n in ns
            if n.pitch in _KICKS
        ]
        window = character.data.danceability.lock_window
        shaped = [
            _lock(n, kicks, window) if p.kind in _LOCKED else n
            for p, n in zip(parts, shaped, strict=True)
        ]
    if character.looseness > 0:
        drift = _drift(timeline, character, rng)
        shaped = [_loosen(n, timeline, character, drift, rng) for n in shaped]
    return [_played(n, timeline, character) for n in shaped]
