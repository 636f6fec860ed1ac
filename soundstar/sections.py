"""Whole-bar sections: how a plan's sections are laid onto the bars a piece holds.

One rule for the planner that states the sections and the composer that plays them,
so the bars a plan shows are the bars heard.
"""

from __future__ import annotations

import itertools
import math

from soundstar.models import split_meter

# A section shorter than this is heard as a fill, not a section: the plan's smallest
# sections merge into their neighbours until every section has at least this many bars.
MIN_SECTION_BARS = 2


def bars_in(time_signature: str, tempo_bpm: float, duration_seconds: float) -> int:
    """Whole bars the duration holds at the tempo and meter (at least one); the last
    bar absorbs what is left over."""
    num, den = split_meter(time_signature)
    beats = duration_seconds * tempo_bpm / 60.0
    return max(1, math.floor(beats / (num * 4.0 / den) + 1e-9))


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


Fitted = list[tuple[str, float, float]]


def _merge_smallest(sections: Fitted, weight: list[float]) -> None:
    """Merge the section of least `weight` into its previous neighbour (the next one
    when it is first), which keeps its name and energy."""
    i = min(range(len(sections)), key=lambda k: weight[k])
    _name, ratio, _ = sections.pop(i)
    j = i - 1 if i > 0 else 0
    keep = sections[j]
    sections[j] = (keep[0], keep[1] + ratio, keep[2])


def fit_sections(planned: Fitted, n_bars: int) -> tuple[Fitted, list[int]]:
    """Sections as (name, ratio, energy) and their bars: the smallest are merged away
    until each has MIN_SECTION_BARS (or the piece is one section)."""
    sections = list(planned)
    while len(sections) > max(1, n_bars // MIN_SECTION_BARS):
        _merge_smallest(sections, [r for _, r, _ in sections])
    while True:
        total = sum(r for _, r, _ in sections)
        fitted = [(name, r / total, e) for name, r, e in sections]
        sizes = allocate_bars([r for _, r, _ in fitted], n_bars)
        if len(sections) == 1 or min(sizes) >= MIN_SECTION_BARS:
            return fitted, sizes
        _merge_smallest(sections, [float(size) for size in sizes])
