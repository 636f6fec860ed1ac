"""How firmly the harmony states the key, and how stable each pitch class is in it.

A listener (and a key finder) hears the key from which pitch classes sound most: the
tonic, then the fifth and the third. When the chords alone point to another key (a
stated "Bmaj7, Bbm" in D# minor), the other parts must say the key instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from soundstar.keys import (
    KK_MAJOR,
    KK_MINOR,
    STATED_MARGIN,
    chord_weights,
    key_correlations,
    key_of_chords,
    tonic_name,
)
from soundstar.models import split_key
from soundstar.theory import MODE_INTERVALS, pitch_class


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


def chords_state_key(chords: Iterable[tuple[str, float]], key: Tonality) -> bool:
    """True when these chords, heard alone, point to `key` (its 24-key major/minor form)."""
    weights = chord_weights(chords)
    if np.ptp(weights) == 0:
        return False
    correlations = key_correlations(weights)
    own = f"{tonic_name(key.tonic_pc, key.minor)} {'minor' if key.minor else 'major'}"
    others = max(r for name, r in correlations.items() if name != own)
    return correlations[own] >= others + STATED_MARGIN


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
