"""How firmly the harmony states the key, and how stable each pitch class is in it.

A listener (and a key finder) hears the key from which pitch classes sound most: the
tonic, then the fifth and the third. When the chords alone point to another key (a
stated "Bmaj7, Bbm" in D# minor), the other parts must say the key instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from soundstar.audio.analysis import (
    KK_MAJOR,
    KK_MINOR,
    MAJOR_TONICS,
    MINOR_TONICS,
    key_correlations,
)
from soundstar.models import split_key
from soundstar.theory import MODE_INTERVALS, parse_chord, pitch_class

# A chord's root sounds in the bass as well: it counts this much more than its other tones.
_ROOT_WEIGHT = 2.0
# The key is "stated" when its correlation beats every other of the 24 keys by this much.
_STATED_MARGIN = 0.05
# A loop of diatonic chords correlates with its major key about 0.11 above the relative
# minor: either may be home, and the mood or the first chord decides.
_RELATIVE_MARGIN = 0.15


def _tonic_name(pc: int, minor: bool) -> str:
    return (MINOR_TONICS if minor else MAJOR_TONICS)[pc]


@dataclass(frozen=True)
class Tonality:
    """The key as the composer uses it: tonic, whether its third is minor, its scale."""

    tonic_pc: int
    minor: bool
    scale: tuple[int, ...]

    @property
    def profile(self) -> tuple[float, ...]:
        """Krumhansl-Kessler stability of each pitch class (C first) in this key."""
        base = KK_MINOR if self.minor else KK_MAJOR
        return tuple(base[(pc - self.tonic_pc) % 12] for pc in range(12))

    def stability(self, pc: int) -> float:
        return self.profile[pc % 12]

    @property
    def fifth_pc(self) -> int:
        return (self.tonic_pc + 7) % 12

    def in_scale(self, pcs: Iterable[int]) -> bool:
        return all(pc % 12 in self.scale for pc in pcs)


def tonality(key: str) -> Tonality:
    tonic, mode = split_key(key)
    root = pitch_class(tonic)
    intervals = MODE_INTERVALS[mode]
    return Tonality(root, intervals[2] == 3, tuple((root + i) % 12 for i in intervals))


def chord_weights(chords: Iterable[tuple[str, float]]) -> np.ndarray:
    """Pitch-class weights (C first) of (chord symbol, beats) pairs; roots count double."""
    weights = np.zeros(12, dtype=np.float64)
    for symbol, beats in chords:
        chord = parse_chord(symbol)
        for pc in chord.pitch_classes:
            weights[pc] += beats
        weights[chord.bass_pc] += beats * (_ROOT_WEIGHT - 1.0)
    return weights


def chords_state_key(chords: Iterable[tuple[str, float]], key: Tonality) -> bool:
    """True when these chords, heard alone, point to `key` (its 24-key major/minor form)."""
    weights = chord_weights(chords)
    if np.ptp(weights) == 0:
        return False
    correlations = key_correlations(weights)
    own = f"{_tonic_name(key.tonic_pc, key.minor)} {'minor' if key.minor else 'major'}"
    others = max(r for name, r in correlations.items() if name != own)
    return correlations[own] >= others + _STATED_MARGIN


def key_of_chords(
    chords: Sequence[str], prefer_mode: str | None = None, *, mode_stated: bool = False
) -> str | None:
    """The major or minor key these chords, played a bar each, are in; None when they
    point nowhere (no chords). Of the keys they fit equally (`keys_of_chords`), the key of
    the first chord's root wins (a loop as written starts at home: "Am F C G" is A minor,
    "C G Am F" C major), then the last chord's (a cadence ends there: "Dm7 G7 Cmaj7" is
    C major), then `prefer_mode` (a mood's), then the closer fit; a `mode_stated` ("in a
    minor key") comes before the first chord."""
    fits = keys_of_chords(chords)
    if not fits:
        return None
    first_root = parse_chord(chords[0]).root_pc
    last_root = parse_chord(chords[-1]).root_pc

    def rank(item: tuple[str, float]) -> tuple[bool, bool, bool, bool, float]:
        tonic, mode = split_key(item[0])
        wanted = mode == prefer_mode
        tonic_pc = pitch_class(tonic)
        return (
            mode_stated and wanted,
            tonic_pc == first_root,
            tonic_pc == last_root,
            wanted,
            item[1],
        )

    return max(fits.items(), key=rank)[0]


def keys_of_chords(chords: Sequence[str]) -> dict[str, float]:
    """The keys these chords fit about equally, with their profile correlations: those
    within the stated margin of the best, and the best key's relative (the same chords
    heard from its other home) when it is within the relative margin."""
    weights = chord_weights((symbol, 1.0) for symbol in chords)
    if not chords or np.ptp(weights) == 0:
        return {}
    correlations = key_correlations(weights)
    best_name = max(correlations, key=lambda name: correlations[name])
    best = correlations[best_name]
    fits = {name: r for name, r in correlations.items() if r >= best - _STATED_MARGIN}
    relative = _relative(best_name)
    if correlations[relative] >= best - _RELATIVE_MARGIN:
        fits[relative] = correlations[relative]
    return fits


def chords_fit_key(chords: Sequence[str], key: Tonality) -> bool:
    """Whether `key` is the one these chords are in (`key_of_chords`, its mode preferred):
    a key chosen from the chords, or stated with a loop that starts at its home, plays the
    loop as written. A key the chords only tie with (C major for "Gm C") still gets its
    cadences."""
    home = key_of_chords(chords, "minor" if key.minor else "major")
    if home is None:
        return False
    fit = tonality(home)
    return (fit.tonic_pc, fit.minor) == (key.tonic_pc, key.minor)


def _relative(key: str) -> str:
    """The relative minor of a major key, the relative major of a minor one."""
    tonic, mode = split_key(key)
    pc = pitch_class(tonic)
    if mode == "minor":
        return f"{_tonic_name((pc + 3) % 12, False)} major"
    return f"{_tonic_name((pc + 9) % 12, True)} minor"
