"""The piece's grid: whole bars per section and a chord for every bar."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from soundstar.models import MusicalParameters, StructuralPlan, split_meter
from soundstar.theory import dominant_chord, parse_chord, tonic_chord


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
    musically.
    """

    beats_per_bar: float
    n_bars: int
    total_beats: float
    sections: tuple[SectionSpan, ...]
    chords: tuple[str, ...]

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
        return bar == span.end_bar - 1 and bar != self.n_bars - 1

    def is_section_start(self, bar: int) -> bool:
        return self.section_of(bar).start_bar == bar


def allocate_bars(ratios: list[float], n_bars: int) -> list[int]:
    """Split n_bars among sections by ratio: whole bars, each ≥ 1, boundaries on 4 or 2 when they fit."""
    n = len(ratios)
    if n_bars < n:
        raise ValueError(f"{n_bars} bars cannot hold {n} sections")
    for grid in (4, 2, 1):
        bounds = [0]
        cumulative = 0.0
        ok = True
        for i, ratio in enumerate(ratios[:-1]):
            cumulative += ratio
            target = cumulative * n_bars
            snapped = int(round(target / grid) * grid)
            remaining_sections = n - i - 1
            snapped = max(snapped, bounds[-1] + 1)
            snapped = min(snapped, n_bars - remaining_sections)
            if grid > 1 and abs(snapped - target) > max(1.0, 0.35 * ratio * n_bars):
                ok = False
                break
            bounds.append(snapped)
        if ok:
            bounds.append(n_bars)
            return [b - a for a, b in itertools.pairwise(bounds)]
    raise AssertionError("grid 1 always fits")  # pragma: no cover


def _fit_sections(plan: StructuralPlan, n_bars: int) -> list[tuple[str, float, float]]:
    """Sections as (name, ratio, energy); the smallest are merged away when bars are too few."""
    sections = [(s.name, s.duration_ratio, s.energy_level) for s in plan.sections]
    while len(sections) > max(1, n_bars):
        i = min(range(len(sections)), key=lambda k: sections[k][1])
        _name, ratio, _ = sections.pop(i)
        j = i - 1 if i > 0 else 0
        keep = sections[j]
        sections[j] = (keep[0], keep[1] + ratio, keep[2])
    total = sum(r for _, r, _ in sections)
    return [(name, r / total, e) for name, r, e in sections]


def build_timeline(params: MusicalParameters, plan: StructuralPlan) -> Timeline:
    """Lay the plan onto bars at the requested tempo, meter and duration."""
    num, den = split_meter(params.time_signature)
    beats_per_bar = num * 4.0 / den
    total_beats = params.duration_seconds * params.tempo_bpm / 60.0
    n_bars = max(1, math.floor(total_beats / beats_per_bar + 1e-9))
    fitted = _fit_sections(plan, n_bars)
    sizes = allocate_bars([r for _, r, _ in fitted], n_bars)
    spans = []
    start = 0
    for index, ((name, _, energy), size) in enumerate(zip(fitted, sizes, strict=True)):
        spans.append(SectionSpan(index, name, start, start + size, energy))
        start += size
    chords = _chords_per_bar(params, plan, spans, n_bars)
    return Timeline(beats_per_bar, n_bars, total_beats, tuple(spans), tuple(chords))


def _chords_per_bar(
    params: MusicalParameters, plan: StructuralPlan, spans: list[SectionSpan], n_bars: int
) -> list[str]:
    by_name = {s.name: s for s in plan.sections}
    base = list(plan.chord_progression.chords)
    chords: list[str] = []
    for span in spans:
        section = by_name.get(span.name)
        progression = list(section.chords) if section and section.chords else base
        chords.extend(progression[i % len(progression)] for i in range(span.n_bars))
    home = tonic_chord(params.key)
    if n_bars >= 1:
        chords[-1] = home
    # A cadence into the final chord: the dominant, unless the progression already leads home.
    if n_bars >= 4 and params.chord_progression is None:
        penultimate = parse_chord(chords[-2])
        dominant = dominant_chord(params.key)
        if penultimate.root_pc != parse_chord(home).root_pc:
            chords[-2] = dominant
    return chords
