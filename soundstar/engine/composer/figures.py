"""Playing idioms as figures: a repeating pattern of chord tones, one stroke per step.

A palm-muted chug, a banjo roll, Travis fingerpicking and a neo-soul Rhodes comp are all the
same thing in data (engine/data/comping.yaml, `figures`): a step length, a stroke per step
in the drum patterns' alphabet (accent, normal, ghost, rest), which tones of the bar's
voicing each step plucks, how long a note rings, and the voicing it picks from.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.voicing import nearest_pitch, power_chord, voice_lead
from soundstar.knowledge.vocab import FamilyName
from soundstar.models import Note
from soundstar.theory import parse_chord

STROKE_LEVEL = {"X": 1.0, "x": 0.85, "o": 0.45}
"""Velocity factor of each stroke character ('.' rests)."""
DEFAULT_RANGE = (48, 84)
"""Where a figure's chords lie unless it states a pitch range (a comping part's)."""
_OFFBEAT = 0.8  # strokes between beats, softer: the beat stays the pulse heard


class Figure(BaseModel):
    """One idiom: `strokes` and `tones` are cycled over the bar's steps; a tone is an index
    into the voicing from its lowest note (-1: every tone, a strum or a stab; -2: the chord's
    bass an octave or so below it, a pianist's left hand)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step_beats: float = Field(gt=0.0, le=2.0)
    strokes: str = Field(min_length=1, pattern=r"^[Xxo.]+$")
    tones: tuple[tuple[int, ...], ...] = Field(min_length=1)
    length_beats: float = Field(gt=0.0, le=8.0, description="how long a note rings")
    voicing: Literal["close", "power"] = "close"
    n_voices: int = Field(default=4, ge=1, le=6)
    colour: tuple[int, ...] = Field(
        default=(), description="semitones above the root added to every chord (2: a ninth)"
    )
    pitch_range: tuple[int, int] | None = None
    families: frozenset[FamilyName] = Field(
        default=frozenset(), description="instrument families that play it; empty: any"
    )

    @model_validator(mode="after")
    def _tones_exist(self) -> Figure:
        if any(t < -2 or t >= self.n_voices for step in self.tones for t in step):
            raise ValueError(f"tones {self.tones} name a voice outside 0..{self.n_voices - 1}")
        if self.pitch_range is not None and self.pitch_range[1] - self.pitch_range[0] < 12:
            raise ValueError(f"pitch_range {list(self.pitch_range)} spans less than an octave")
        return self

    def suits(self, family: str) -> bool:
        """Whether an instrument of `family` plays this idiom."""
        return not self.families or family in self.families


def figure_voicing(
    figure: Figure,
    symbol: str,
    previous: tuple[int, ...] | None,
    lo: int,
    hi: int,
    shift: int = 0,
) -> tuple[int, ...]:
    """The bar's voicing for `figure`, low to high, led from the previous bar's: in the
    figure's pitch range (moved `shift` semitones: the valence's darker or brighter
    voicing) where the instrument's [lo, hi] reaches it, else in the figure's."""
    base = figure.pitch_range or DEFAULT_RANGE
    own = (base[0] + shift, base[1] + shift)
    lo, hi = max(lo, own[0]), min(hi, own[1])
    if hi - lo < 12:
        lo, hi = own
    if figure.voicing == "power":
        return power_chord(symbol, previous, lo, hi)
    root = parse_chord(symbol).root_pc
    added = tuple((root + interval) % 12 for interval in figure.colour)
    return tuple(sorted(voice_lead(symbol, previous, lo, hi, figure.n_voices, added)))


def figure_bar(
    figure: Figure,
    voicing: tuple[int, ...],
    bass_pc: int,
    start: float,
    bar_beats: float,
    pulse: Pulse,
    velocity: float,
    rng: np.random.Generator,
) -> list[Note]:
    """The figure's notes in one bar from beat `start`; a note rings `length_beats`, cut
    where its pitch is struck again or the bar ends (a damped string, a re-struck key)."""
    low = min(voicing)
    bass = nearest_pitch(bass_pc, low - 12, low - 19, low - 8)
    strikes: list[tuple[float, int, float]] = []
    for step in range(round(bar_beats / figure.step_beats)):
        char = figure.strokes[step % len(figure.strokes)]
        if char not in STROKE_LEVEL:
            continue
        onset = step * figure.step_beats
        level = STROKE_LEVEL[char] * (1.0 if pulse.on_beat(onset) else _OFFBEAT)
        tones = figure.tones[step % len(figure.tones)]
        picked = [bass] if -2 in tones else []
        picked += (
            voicing if -1 in tones else [voicing[min(t, len(voicing) - 1)] for t in tones if t >= 0]
        )
        strikes.extend((onset, pitch, level) for pitch in dict.fromkeys(picked))
    notes = []
    for onset, pitch, level in strikes:
        later = [o for o, p, _ in strikes if p == pitch and o > onset]
        end = min([onset + figure.length_beats, bar_beats, *later])
        notes.append(
            Note(
                pitch=pitch,
                start_beat=round(start + onset, 6),
                duration_beats=round(max(end - onset, 0.05), 6),
                velocity=int(np.clip(velocity * level + rng.normal(0.0, 3.0), 20, 127)),
            )
        )
    return notes
