"""The piece's grid: whole bars per section and a chord for every bar."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from soundstar.engine.character_data import character_data
from soundstar.engine.composer.colour import colour_chords
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.tonality import (
    Tonality,
    chords_fit_key,
    chords_state_key,
    tonality,
)
from soundstar.models import MusicalParameters, StructuralPlan, split_meter
from soundstar.sections import MIN_SECTION_BARS, allocate_bars, bars_in, fit_sections
from soundstar.theory import dominant_chord, parse_chord, tonic_chord

__all__ = ["MIN_SECTION_BARS", "SectionSpan", "Timeline", "allocate_bars", "build_timeline"]


@dataclass(frozen=True)
class SectionSpan:
    """A plan section laid onto bars; `end_bar` is exclusive."""

    index: int
    name: str
    start_bar: int
    end_bar: int
    energy: float

    @property
    def n_bars(self) -> int:
        return self.end_bar - self.start_bar


@dataclass(frozen=True)
class Timeline:
    """Bars, sections and harmony of a piece of fixed duration.

    The last bar is stretched to absorb the part of the duration that is not a
    whole bar: the final chord rings there, so the piece ends on time and
    musically. A loop (`loops`) has no final bar: its last bar leads back to its
    first, so no part plays an ending. `key_stated` is False when the chords alone would be heard in
    another key: the bass and melody then carry the key (see `tonality`).
    """

    beats_per_bar: float
    n_bars: int
    total_beats: float
    sections: tuple[SectionSpan, ...]
    chords: tuple[str, ...]
    key: Tonality | None = None
    key_stated: bool = True
    tempo_bpm: float | None = None
    time_signature: str | None = None
    loops: bool = False

    @property
    def final_bar(self) -> int | None:
        """The bar where every part plays its ending; None in a loop, which never ends."""
        return None if self.loops else self.n_bars - 1

    @cached_property
    def pulse(self) -> Pulse:
        """The felt beats of a bar (quarter notes when no time signature was given); every
        part asks for it per bar and per note, so it is worked out once."""
        if self.time_signature is None:
            return Pulse(self.beats_per_bar)
        return Pulse.of(self.time_signature)

    def bar_start(self, bar: int) -> float:
        return bar * self.beats_per_bar

    def bar_length(self, bar: int) -> float:
        if bar == self.n_bars - 1:
            return self.total_beats - bar * self.beats_per_bar
        return self.beats_per_bar

    def section_of(self, bar: int) -> SectionSpan:
        for span in self.sections:
            if span.start_bar <= bar < span.end_bar:
                return span
        return self.sections[-1]

    def is_section_end(self, bar: int) -> bool:
        """The last bar of a section that another section follows."""
        span = self.section_of(bar)
        return bar == span.end_bar - 1 and bar != self.final_bar

    def is_section_start(self, bar: int) -> bool:
        return self.section_of(bar).start_bar == bar

    def held_tonic(self, bar: int) -> tuple[int, ...]:
        """The tonic as a tone held through this bar's chord, when the chords alone do
        not state the key and the tonic sits in the chord without a semitone clash."""
        if self.key_stated or self.key is None:
            return ()
        tonic = self.key.tonic_pc
        pcs = parse_chord(self.chords[bar]).pitch_classes
        if tonic in pcs or any((pc - tonic) % 12 in (1, 11) for pc in pcs):
            return ()
        return (tonic,)


def build_timeline(
    params: MusicalParameters, plan: StructuralPlan, *, loops: bool = False
) -> Timeline:
    """Lay the plan onto bars at the requested tempo, meter and duration; a loop's
    harmony turns back to its first bar instead of closing."""
    num, den = split_meter(params.time_signature)
    beats_per_bar = num * 4.0 / den
    total_beats = params.duration_seconds * params.tempo_bpm / 60.0
    n_bars = bars_in(params.time_signature, params.tempo_bpm, params.duration_seconds)
    fitted, sizes = fit_sections(
        [(s.name, s.duration_ratio, s.energy_level) for s in plan.sections], n_bars
    )
    spans = []
    start = 0
    for index, ((name, _, energy), size) in enumerate(zip(fitted, sizes, strict=True)):
        spans.append(SectionSpan(index, name, start, start + size, energy))
        start += size
    key = tonality(params.key)
    chords = _chords_per_bar(params, plan, spans, n_bars, loops=loops)
    stated = chords_state_key(((c, beats_per_bar) for c in chords), key) or (
        params.chord_progression is not None and chords_fit_key(params.chord_progression, key)
    )
    if not stated:
        chords = _phrase_cadences(chords, spans, params.key)
        if params.chord_progression is not None and not loops:
            chords = _final_cadence(chords, params.key)
    return Timeline(
        beats_per_bar,
        n_bars,
        total_beats,
        tuple(spans),
        tuple(chords),
        key,
        stated,
        params.tempo_bpm,
        params.time_signature,
        loops,
    )


def _from_tonic(progression: list[str], tonic_pc: int) -> list[str]:
    """The loop turned to start on its tonic chord, if it has one: a progression we
    choose opens on the home chord, and its last chord leads back to it."""
    for i, symbol in enumerate(progression):
        if parse_chord(symbol).root_pc == tonic_pc:
            return progression[i:] + progression[:i]
    return progression


def _phrase_cadences(chords: list[str], spans: list[SectionSpan], key: str) -> list[str]:
    """Every section comes home where it can: its last bar becomes the tonic chord when
    the chord it replaces has already sounded in that section, so no chord of the loop
    goes unheard ("F C F D7" in C major keeps its D7 in four-bar sections)."""
    home = tonic_chord(key)
    out = list(chords)
    for span in spans:
        last = span.end_bar - 1
        if span.n_bars >= MIN_SECTION_BARS and chords[last] in chords[span.start_bar : last]:
            out[last] = home
    return out


def _final_cadence(chords: list[str], key: str) -> list[str]:
    """The dominant before the closing tonic, unless the chord there already leads home."""
    if len(chords) < 4:
        return chords
    home = parse_chord(tonic_chord(key)).root_pc
    if parse_chord(chords[-2]).root_pc != home:
        chords = [*chords[:-2], dominant_chord(key), chords[-1]]
    return chords


def _turnaround(chords: list[str], key: str) -> list[str]:
    """A loop's last bar leads to its first: the dominant, when the loop opens on the
    tonic and the last chord is not already its dominant."""
    home = parse_chord(tonic_chord(key)).root_pc
    dominant = dominant_chord(key)
    if len(chords) < 2 or parse_chord(chords[0]).root_pc != home:
        return chords
    if parse_chord(chords[-1]).root_pc == parse_chord(dominant).root_pc:
        return chords
    return [*chords[:-1], dominant]


def _chords_per_bar(
    params: MusicalParameters,
    plan: StructuralPlan,
    spans: list[SectionSpan],
    n_bars: int,
    *,
    loops: bool = False,
) -> list[str]:
    by_name = {s.name: s for s in plan.sections}
    chosen = params.chord_progression is None
    home = tonic_chord(params.key)
    home_pc = parse_chord(home).root_pc
    base = list(plan.chord_progression.chords)
    chords: list[str] = []
    position = 0
    previous: list[str] | None = None
    for span in spans:
        section = by_name.get(span.name)
        progression = list(section.chords) if section and section.chords else base
        if chosen:
            progression = _from_tonic(progression, home_pc)
        # A section long enough for the whole loop starts it afresh; a shorter one
        # carries on the loop the section before left unfinished.
        if progression != previous or span.n_bars >= len(progression):
            position = 0
        chords.extend(progression[(position + i) % len(progression)] for i in range(span.n_bars))
        position = (position + span.n_bars) % len(progression)
        previous = progression
    if chosen:  # the valence colours the chords we chose, never the person's
        chords = colour_chords(chords, params.key, params.valence, character_data().valence)
    if loops:
        return _turnaround(chords, params.key)
    if n_bars >= 1:
        chords[-1] = home
    return _final_cadence(chords, params.key) if chosen else chords
