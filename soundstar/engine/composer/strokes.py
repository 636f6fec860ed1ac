"""One stroke generator for every percussion part: a groove and voices -> strokes.

The kit, a kit piece, hand percussion or a shaker on its own, and timpani all play through
`strokes`: the same velocity rule (accents, ghost notes from a section energy up, softer
in quieter sections, reshaped at slow tempi so the beat stays the pulse heard), and a
`Policy` that says what the player does beyond the groove (fills, thinning in quiet
sections, resting, crashes). Each writer then maps voices to pitches and adds its ending.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from soundstar.engine.composer.feel import SLOW_BPM, VERY_SLOW_BPM
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.timeline import Timeline
from soundstar.knowledge import DrumBar, DrumGroove

VELOCITY = {"X": 118, "x": 96, "o": 52}
_FULL_STROKES = frozenset("Xx")
# Below this section energy the kit plays only these voices.
_KIT_THIN_ENERGY = 0.3
_LOW_ENERGY_KEEP = frozenset({"kick", "closed_hat", "pedal_hat", "ride", "shaker", "rim"})
_TIMEKEEPERS = frozenset({"closed_hat", "pedal_hat", "open_hat", "ride", "shaker", "tambourine"})
_BEAT_VOICES = frozenset({"kick", "snare", "clap", "rim"})
_SLOW_OFFBEAT_SCALE = 0.55
_SLOW_GHOST_SCALE = 0.3
_SLOW_BEAT_SCALE = 1.1
# Ghost notes ("o") play from this section energy up.
_GHOST_ENERGY = 0.45


# Hand percussion rests in sections quieter than this, a shaker and a tambourine (lighter
# colours of a livelier band) below theirs; or in all but the piece's liveliest sections,
# where none reaches it: an instrument asked for is always heard.
HAND_REST_ENERGY = 0.3
_ENTERS_AT = {"shaker": 0.4, "tambourine": 0.6}
# A drummer crashes into a section this lively.
_CRASH_ENERGY = 0.55


@dataclass(frozen=True)
class Policy:
    """What a player does beyond the groove's patterns."""

    fills: bool  # plays the groove's fill at each section's end
    thins: bool  # leaves all but the timekeepers out of quiet sections (a drummer)
    rests: bool  # rests in sections quieter than HAND_REST_ENERGY
    crashes: bool  # crashes into lively sections


DRUMMER = Policy(fills=True, thins=True, rests=False, crashes=True)
"""The kit: every voice of the groove, fills, crashes, quiet sections thinned."""
FROM_THE_KIT = Policy(fills=True, thins=True, rests=False, crashes=False)
"""A kit piece playing its voices of the kit's groove on a track of its own."""
PERCUSSIONIST = Policy(fills=False, thins=False, rests=True, crashes=False)
"""Hand percussion (and timpani): the groove's patterns, resting in quiet sections."""
FELT_BEATS = Policy(fills=False, thins=True, rests=False, crashes=False)
"""A piece inside the kit that the groove leaves unheard: the felt beats, as the kit plays."""


class Stroke(NamedTuple):
    """One stroke: its bar, voice and step on the grid, velocity, whether it is heard as
    the instrument (not a ghost note), and its length in beats where it is not one step."""

    bar: int
    voice: str
    step: int
    velocity: int
    heard: bool
    beats: float | None = None


def slow_tempo_scale(voice: str, on_beat: bool, tempo_bpm: float | None) -> float:
    """Velocity factor that keeps the beat, not its subdivision, the strongest pulse:
    between beats, cymbals and shakers play softer and kicks, snares and toms become
    ghost notes; on the beat, kick and snare are lifted."""
    if tempo_bpm is None or tempo_bpm >= SLOW_BPM:
        return 1.0
    if on_beat:
        return _SLOW_BEAT_SCALE if voice in _BEAT_VOICES else 1.0
    if voice in _TIMEKEEPERS:
        return _SLOW_OFFBEAT_SCALE
    return 0.0 if tempo_bpm < VERY_SLOW_BPM else _SLOW_GHOST_SCALE


def _bar_voices(groove: DrumGroove, bar: int, timeline: Timeline) -> dict[str, str]:
    """The patterns of one bar: the fill at a section's end, else the groove's."""
    if timeline.is_section_end(bar) and groove.fill is not None:
        return {str(k): v for k, v in groove.fill.voices.items()}
    return _groove_voices(groove, bar)


def _groove_voices(groove: DrumGroove, bar: int) -> dict[str, str]:
    """The groove's patterns in one bar, with its every-second-bar voices (a clave's other
    side) and, every fourth bar, a variation."""
    merged = {str(k): v for k, v in groove.voices.items()}
    if groove.alternate is not None and bar % 2 == 1:
        merged.update({str(k): v for k, v in groove.alternate.voices.items()})
    if groove.variations and bar % 4 == 3:
        variation = groove.variations[(bar // 4) % len(groove.variations)]
        merged.update({str(k): v for k, v in variation.voices.items()})
    return merged


def pattern_voices(groove: DrumGroove, *, fill: bool = True, ghosts: bool = True) -> frozenset[str]:
    """Every voice the groove has a pattern for in some bar: its variations and alternate
    bar included, its fill unless `fill` is False, and a voice with only ghost notes
    (a techno rim) unless `ghosts` is False."""
    bars: list[DrumGroove | DrumBar | None] = [
        groove,
        groove.fill if fill else None,
        groove.alternate,
        *groove.variations,
    ]
    return frozenset(
        str(voice)
        for bar in bars
        if bar is not None
        for voice, pattern in bar.voices.items()
        if ghosts or any(char in _FULL_STROKES for char in pattern)
    )


def thinned_out(voice: str, energy: float) -> bool:
    """Whether the kit leaves `voice` out in a section this quiet."""
    return energy < _KIT_THIN_ENERGY and voice not in _LOW_ENERGY_KEEP


def pattern_hits(
    pattern: str,
    steps: int,
    timeline: Timeline,
    energy: float,
    voice: str,
    rng: np.random.Generator,
    tempo_bpm: float | None,
) -> list[tuple[int, int, bool]]:
    """(step, velocity, heard) of a drum or percussion pattern in one bar: ghost notes only
    from _GHOST_ENERGY up, softer in quieter sections, reshaped at slow tempi
    (slow_tempo_scale). `heard` marks a stroke that is not a ghost note, as written or as
    a slow tempo makes it: the strokes by which a listener knows the instrument plays."""
    steps_per_beat = steps / timeline.beats_per_bar
    scale = 0.72 + 0.28 * energy
    hits = []
    for step, char in enumerate(pattern[:steps]):
        if char not in VELOCITY or (char == "o" and energy < _GHOST_ENERGY):
            continue
        on_beat = abs(step / steps_per_beat - round(step / steps_per_beat)) < 1e-9
        slow = slow_tempo_scale(voice, on_beat, tempo_bpm)
        if slow == 0.0:
            continue
        velocity = VELOCITY[char] * scale * slow + rng.normal(0.0, 4.0)
        heard = char in _FULL_STROKES and slow >= _SLOW_OFFBEAT_SCALE
        hits.append((step, int(np.clip(velocity, 20, 127)), heard))
    return hits


def felt_beat_pattern(voice_index: int, pulse: Pulse, steps: int, voice: str = "") -> str:
    """A pattern for a voice the meter's grooves have none for: the first voice on every
    felt beat (accented on one), the others, and a crash (a crash on every beat is noise,
    not a pulse), on the downbeat; an open hi-hat between the beats, where it sings."""
    chars = ["."] * steps
    per_beat = steps / pulse.beats_per_bar
    if voice == "open_hat":
        for onset in pulse.onsets():
            step = round((onset + pulse.beat / 2) * per_beat)
            if step < steps:
                chars[step] = "x"
        return "".join(chars)
    every_beat = voice_index == 0 and voice != "crash"
    for k, onset in enumerate(pulse.onsets()):
        if every_beat or k == 0:
            chars[round(onset * per_beat)] = "X" if k == 0 else "x"
    return "".join(chars)


def plays_from(energy: float, timeline: Timeline) -> float:
    """The section energy a percussion part plays from: `energy`, or the piece's highest."""
    return min(energy, max(span.energy for span in timeline.sections))


def grid(groove: DrumGroove | None, timeline: Timeline) -> tuple[int, float]:
    """Steps in a bar and their length in beats: the groove's, else sixteenths."""
    steps = groove.steps if groove is not None else round(timeline.beats_per_bar * 4)
    return steps, timeline.beats_per_bar / steps


def strokes(
    timeline: Timeline,
    groove: DrumGroove | None,
    voices: tuple[str, ...] | None,
    rng: np.random.Generator,
    tempo_bpm: float | None,
    policy: Policy,
    *,
    steps: int | None = None,
    silent: frozenset[str] = frozenset(),
) -> Iterator[Stroke]:
    """The strokes of every bar but the final one (where each writer puts its ending; a
    loop has none).

    `voices`: the ones played, each from its pattern in `groove`; where the groove has
    none of them, each plays a hit on the felt beats (`felt_beat_pattern`); None: every
    voice of the groove (a drummer). `silent` voices are not played (claps dropped at a
    fast tempo, voices left out). `steps` overrides the grid (the kit's, for felt beats).
    """
    steps = steps or grid(groove, timeline)[0]
    covered = (
        groove is not None and voices is not None and bool(pattern_voices(groove) & set(voices))
    )
    fallback = {
        v: "" if covered else felt_beat_pattern(i, timeline.pulse, steps, v)
        for i, v in enumerate(voices or ())
    }
    enters = {
        v: plays_from(_ENTERS_AT.get(v, HAND_REST_ENERGY), timeline) if policy.rests else 0.0
        for v in voices or ()
    }
    last = timeline.final_bar
    for bar in range(last if last is not None and last > 0 else timeline.n_bars):
        energy = timeline.section_of(bar).energy
        if groove is None:
            written: dict[str, str] = {}
        elif policy.fills:
            written = _bar_voices(groove, bar, timeline)
        else:
            written = _groove_voices(groove, bar)
        played = voices if voices is not None else tuple(written)
        for voice in played:
            if (policy.thins and thinned_out(voice, energy)) or voice in silent:
                continue
            if energy < enters.get(voice, 0.0):
                continue
            pattern = written.get(voice, fallback.get(voice, ""))
            for step, velocity, heard in pattern_hits(
                pattern, steps, timeline, energy, voice, rng, tempo_bpm
            ):
                yield Stroke(bar, voice, step, velocity, heard)
        lively = timeline.is_section_start(bar) and bar > 0 and energy >= _CRASH_ENERGY
        if policy.crashes and lively and "crash" not in silent:
            yield Stroke(bar, "crash", 0, 100, True, 1.0)
