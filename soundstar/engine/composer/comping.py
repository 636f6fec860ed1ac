"""Harmony parts: comping chords, pads, arpeggios and textures, voice-led bar to bar."""

from __future__ import annotations

from functools import cache

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from soundstar.engine.composer.feel import SLOW_COMPING_BPM
from soundstar.engine.composer.figures import Figure, figure_bar, figure_voicing
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.timeline import Timeline
from soundstar.engine.composer.voicing import nearest_pitch, power_chord, voice_lead
from soundstar.engine.data_file import load_data_file
from soundstar.knowledge.vocab import CompingName
from soundstar.models import Note
from soundstar.theory import parse_chord

_STRUM_SPREAD_BEATS = 0.035


class CompingPatterns(BaseModel):
    """The comping patterns of data/comping.yaml: each style's hits (onset, duration in
    beats) in a bar of 4/4, the styles that strike every beat at a slow tempo, and the
    playing idioms (`figures`: chugs, rolls, fingerpicking) in any meter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patterns_4_4: dict[CompingName, tuple[tuple[float, float], ...]]
    every_beat_when_slow: frozenset[CompingName]
    figures: dict[CompingName, Figure] = {}
    two_hands: dict[CompingName, CompingName] = {}

    def figure(self, style: str) -> Figure | None:
        """The idiom's figure `style` plays, or None for a pattern style."""
        return next((f for name, f in self.figures.items() if name == style), None)

    @model_validator(mode="after")
    def _two_hands_name_keyboard_idioms(self) -> CompingPatterns:
        for style, idiom in self.two_hands.items():
            figure = self.figures.get(idiom)
            if style in self.figures or figure is None or not figure.suits("keys"):
                raise ValueError(
                    f"two_hands: {style} -> {idiom} must map a pattern style to a keys figure"
                )
        return self

    @model_validator(mode="after")
    def _hits_in_the_bar(self) -> CompingPatterns:
        for style, hits in self.patterns_4_4.items():
            for onset, duration in hits:
                if not (0.0 <= onset < 4.0 and 0.0 < duration <= 4.0 - onset):
                    raise ValueError(f"{style}: hit ({onset}, {duration}) is not inside a 4/4 bar")
        return self


@cache
def comping_patterns() -> CompingPatterns:
    """The comping patterns, read once from the engine's data."""
    return load_data_file("comping.yaml", CompingPatterns)


def plays_style(style: str, family: str) -> bool:
    """Whether an instrument of `family` plays comping `style`: any plays a pattern; an
    idiom's figure, the families it names."""
    figure = comping_patterns().figure(style)
    return figure is None or figure.suits(family)


def two_handed(style: CompingName) -> CompingName:
    """What a keyboard played with both hands plays for the genre's pattern `style`."""
    return next((idiom for s, idiom in comping_patterns().two_hands.items() if s == style), style)


def is_idiom(style: str) -> bool:
    """Whether `style` is a playing idiom (a figure of data/comping.yaml), not a pattern."""
    return comping_patterns().figure(style) is not None


_PULSE_STEP = 0.5  # a pulsing part repeats its chord every eighth note
_PULSE_OFFBEAT = 0.75  # a pulse's eighths and a strum's upstrokes between beats: the beat leads


def _style_hits(
    style: str,
    pulse: Pulse,
    energy: float,
    tempo_bpm: float | None = None,
    *,
    on_beats: bool = False,
) -> list[tuple[float, float]]:
    beats_per_bar = pulse.beats_per_bar
    per_beat = [(onset, min(0.9 * pulse.beat, beats_per_bar - onset)) for onset in pulse.onsets()]
    if style == "pulse":
        steps = round(beats_per_bar / _PULSE_STEP)
        return [(i * _PULSE_STEP, _PULSE_STEP * 0.8) for i in range(steps)]
    if on_beats:
        return per_beat
    if style == "pad" or energy < 0.3:
        return [(0.0, beats_per_bar)]
    patterns = comping_patterns()
    slow = tempo_bpm is not None and tempo_bpm < SLOW_COMPING_BPM
    if slow and style in patterns.every_beat_when_slow:
        return per_beat
    if beats_per_bar == 4.0 and pulse.beat == 1.0 and style in patterns.patterns_4_4:
        return list(patterns.patterns_4_4[style])
    if style == "offbeat_skank":
        offbeats = (onset + pulse.beat / 2 for onset in pulse.onsets())
        return [(onset, 0.25) for onset in offbeats if onset + 0.25 <= beats_per_bar]
    # One hit per felt beat (3/4 waltz comping: bass on 1, chords on 2 and 3 is written by
    # the bass; 6/8: two dotted quarters).
    return per_beat


def _accent(style: str, onset: float, pulse: Pulse) -> float:
    if onset == 0:
        return 1.0
    if style in ("pulse", "strum") and not pulse.on_beat(onset):
        return _PULSE_OFFBEAT
    return 0.9


def write_comping(
    timeline: Timeline,
    register: tuple[int, int],
    style: str,
    rng: np.random.Generator,
    *,
    base_velocity: int = 82,
    n_voices: int = 4,
    power_chords: bool = False,
    on_beats: bool = False,
    shift: int = 0,
) -> list[Note]:
    """Chords in the given style; `pad` holds each chord for the whole bar (legato);
    `power_chords` plays root, fifth and octave (a distorted guitar); `on_beats` strikes
    every beat whatever the style and energy (the part carries the beat: no drums play);
    `shift` moves the voicings' range by semitones (darker down, brighter up)."""
    figure = comping_patterns().figure(style)
    if figure is not None and not on_beats:
        return _write_figure(timeline, register, figure, rng, base_velocity, shift)
    lo, hi = max(register[0], 48 + shift), min(register[1], 84 + shift)
    if power_chords:
        lo, hi = max(register[0], 40), min(register[1], 72)
    if hi - lo < 14:
        lo, hi = 52, 76
    notes: list[Note] = []
    previous: tuple[int, ...] | None = None
    for bar in range(timeline.n_bars):
        voicing = (
            power_chord(timeline.chords[bar], previous, lo, hi)
            if power_chords
            else voice_lead(
                timeline.chords[bar], previous, lo, hi, n_voices, timeline.held_tonic(bar)
            )
        )
        previous = voicing
        start = timeline.bar_start(bar)
        energy = timeline.section_of(bar).energy
        vel = base_velocity * (0.7 + 0.35 * energy)
        last = bar == timeline.final_bar
        if style == "arpeggio" and not last and (energy >= 0.3 or on_beats):
            slow = timeline.tempo_bpm is not None and timeline.tempo_bpm < SLOW_COMPING_BPM
            step = timeline.pulse.beat if slow or on_beats else 0.5
            notes.extend(_arpeggio(voicing, start, timeline.pulse, vel, rng, step=step))
            continue
        hits = (
            [(0.0, timeline.bar_length(bar))]
            if last
            else _style_hits(style, timeline.pulse, energy, timeline.tempo_bpm, on_beats=on_beats)
        )
        for onset, duration in hits:
            for i, pitch in enumerate(voicing):
                spread = i * _STRUM_SPREAD_BEATS if style == "strum" else 0.0
                legato = 0.02 if style == "pad" else 0.0
                notes.append(
                    Note(
                        pitch=pitch,
                        start_beat=round(start + onset + spread, 6),
                        duration_beats=round(max(duration - spread + legato, 0.1), 6),
                        velocity=int(
                            np.clip(
                                vel * _accent(style, onset, timeline.pulse) + rng.normal(0, 3),
                                25,
                                127,
                            )
                        ),
                    )
                )
    return notes


def _write_figure(
    timeline: Timeline,
    register: tuple[int, int],
    figure: Figure,
    rng: np.random.Generator,
    base_velocity: int,
    shift: int = 0,
) -> list[Note]:
    """A chord part played as an idiom's figure, bar by bar, the last bar's chord held."""
    notes: list[Note] = []
    previous: tuple[int, ...] | None = None
    for bar in range(timeline.n_bars):
        voicing = figure_voicing(figure, timeline.chords[bar], previous, *register, shift)
        previous = voicing
        start, length = timeline.bar_start(bar), timeline.bar_length(bar)
        vel = base_velocity * (0.7 + 0.35 * timeline.section_of(bar).energy)
        if bar == timeline.final_bar:
            notes.extend(
                Note(pitch=p, start_beat=start, duration_beats=length, velocity=int(vel))
                for p in voicing
            )
            continue
        bass_pc = parse_chord(timeline.chords[bar]).bass_pc
        notes.extend(figure_bar(figure, voicing, bass_pc, start, length, timeline.pulse, vel, rng))
    return notes


def _figure_length(notes_per_bar: int, notes_per_beat: int) -> int:
    """Notes in one arpeggio figure: a length that divides the bar and spans whole beats,
    so the figure marks the beat. (A six-note up-and-down in 4/4 sixteenths repeats every
    1.5 beats and is heard as a dotted-quarter pulse.)"""
    for length in (2 * notes_per_beat, notes_per_beat, notes_per_bar):
        if 4 <= length <= 8 and notes_per_bar % length == 0:
            return length
    return min(max(2 * notes_per_beat, 4), 8)


def _figure(voicing: tuple[int, ...], length: int) -> list[int]:
    """`length` notes up the chord to the octave of its lowest tone and back down:
    1-3-5-8, 1-3-5-8-5-3, 1-3-5-7-8-7-5-3."""
    tones = [*sorted(voicing), min(voicing) + 12]
    cycle = tones + tones[-2:0:-1]
    return [cycle[i % len(cycle)] for i in range(length)]


def _arpeggio(
    voicing: tuple[int, ...],
    start: float,
    pulse: Pulse,
    vel: float,
    rng: np.random.Generator,
    *,
    step: float,
) -> list[Note]:
    out = []
    n = round(pulse.beats_per_bar / step)
    per_beat = max(round(pulse.beat / step), 1)
    order = _figure(voicing, _figure_length(n, per_beat))
    for i in range(n):
        pitch = order[i % len(order)]
        accent = 1.0 if i % per_beat == 0 else 0.85
        out.append(
            Note(
                pitch=pitch,
                start_beat=round(start + i * step, 6),
                duration_beats=round(step * 0.95, 6),
                velocity=int(np.clip(vel * accent + rng.normal(0, 3), 25, 127)),
            )
        )
    return out


def write_arp(
    timeline: Timeline, register: tuple[int, int], rng: np.random.Generator
) -> list[Note]:
    """Sixteenth-note arpeggios over two octaves of each chord (eighths when calm)."""
    lo = max(register[0], 55)
    notes: list[Note] = []
    previous: tuple[int, ...] | None = None
    for bar in range(timeline.n_bars):
        voicing = voice_lead(timeline.chords[bar], previous, lo, lo + 19, 3)
        previous = voicing
        energy = timeline.section_of(bar).energy
        if bar == timeline.final_bar:
            notes.append(
                Note(
                    pitch=voicing[0],
                    start_beat=timeline.bar_start(bar),
                    duration_beats=timeline.bar_length(bar),
                    velocity=70,
                )
            )
            continue
        step = 0.25 if energy >= 0.5 else 0.5
        notes.extend(
            _arpeggio(
                voicing,
                timeline.bar_start(bar),
                timeline.pulse,
                70 + 30 * energy,
                rng,
                step=step,
            )
        )
    return notes


def write_texture(timeline: Timeline, register: tuple[int, int], tonic_pc: int) -> list[Note]:
    """A drone on the tonic and fifth, re-struck at each section."""
    lo, hi = register
    root = nearest_pitch(tonic_pc, (lo + hi) / 2 - 6, lo, hi)
    notes: list[Note] = []
    for span in timeline.sections:
        start = timeline.bar_start(span.start_bar)
        end = (
            timeline.total_beats
            if span.end_bar >= timeline.n_bars
            else timeline.bar_start(span.end_bar)
        )
        vel = int(50 + 30 * span.energy)
        for pitch in (root, root + 7):
            notes.append(
                Note(pitch=pitch, start_beat=start, duration_beats=end - start, velocity=vel)
            )
    return notes


def chord_root_pc(symbol: str) -> int:
    return parse_chord(symbol).root_pc
