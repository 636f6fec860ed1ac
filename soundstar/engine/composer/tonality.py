"""How firmly the harmony states the key, and how stable each pitch class is in it.

A listener (and a key finder) hears the key from which pitch classes sound most: the
tonic, then the fifth and the third. When the chords alone point to another key (a
stated "Bmaj7, Bbm" in D# minor), the other parts must say the key instead.
"""

from __future__ import annotations

from collections.abc import Iterable
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
