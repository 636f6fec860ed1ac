"""Where a bar's felt beats fall, so every part accents the meter that was asked for.

A bar's length is counted in quarter notes, which cannot tell 3/4 from 6/8 (both 3.0):
3/4 is felt in three quarters, 6/8 in two dotted quarters. Accenting the middle of a
3/4 bar (1.5) or the quarters of a 6/8 bar writes a hemiola against the meter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from soundstar.models import split_meter

_EPS = 1e-6


@dataclass(frozen=True)
class Pulse:
    """The felt beat of a meter (in quarter notes) and its strong beats: the downbeat, and
    the middle beat of a bar of an even number of beats (beat 3 of 4/4, beat 2 of 6/8)."""

    beats_per_bar: float
    beat: float = 1.0

    @classmethod
    def of(cls, time_signature: str) -> Pulse:
        """6/8, 9/8 and 12/8 are felt in dotted quarters; every other meter in quarters."""
        num, den = split_meter(time_signature)
        compound = den == 8 and num % 3 == 0 and num > 3
        return cls(num * 4.0 / den, 1.5 if compound else 1.0)

    @property
    def count(self) -> int:
        """Felt beats in a bar (the last one may be short: 7/8 is three and a half quarters)."""
        return max(math.ceil(self.beats_per_bar / self.beat - _EPS), 1)

    def onsets(self) -> list[float]:
        """Where the felt beats of a bar start, in quarter notes from the bar line."""
        return [k * self.beat for k in range(self.count)]

    def on_beat(self, onset: float) -> bool:
        """Whether `onset` (quarter notes into the bar) falls on a felt beat."""
        ratio = onset / self.beat
        return abs(ratio - round(ratio)) < _EPS

    def is_strong(self, onset: float) -> bool:
        """The downbeat, or the middle beat of a bar of an even number of whole beats."""
        if abs(onset) < _EPS:
            return True
        beats = self.beats_per_bar / self.beat
        even = abs(beats - round(beats)) < _EPS and round(beats) % 2 == 0
        return even and abs(onset - self.beats_per_bar / 2) < _EPS
