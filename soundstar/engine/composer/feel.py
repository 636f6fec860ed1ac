"""Feel: how the tempo is heard and how the off-beats lean, shared by every part's writer.

A listener (and a tempo finder) hears the strongest regular pulse as the beat and prefers
beats near 120 BPM, so a slow piece whose subdivisions are as loud as its beats is heard at
double time, and a fast one whose backbeat outweighs its downbeat at half time. The
thresholds below are where each writer starts to keep the written beat the one heard.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOW_BPM = 95.0
"""Below this, quick cymbal and shaker subdivisions and a melody's off-beat notes would be
heard as the beat at double time: they are played softer (or fewer) between beats."""

VERY_SLOW_BPM = 80.0
"""Below this the tempo finder's preference for ~120 BPM pulls the beat to its double unless
nothing but cymbals plays between beats: kicks, snares and toms keep to the beat."""

FAST_BPM = 150.0
"""From here up the preference no longer favours the beat's half, so a backbeat much louder
than the downbeat (a hand-clap on 2 and 4) is heard as a half-time beat, and a shaker's
eighths in a fast waltz as a beat and a half."""

SLOW_COMPING_BPM = 90.0
"""Below this, chord hits between beats are heard as the beat at double time: comping marks
every beat instead, and arpeggios move in quarter notes."""


def swing_offset(step: int, steps_per_beat: float, swing: float, step_beats: float) -> float:
    """Delay in beats of an off-beat step under swing (0.33 = triplet feel, 0.5 = dotted).

    Only even subdivisions swing; a triplet grid already carries its feel.
    """
    if swing <= 0 or step % 2 == 0 or steps_per_beat not in (2, 4):
        return 0.0
    return swing * step_beats


@dataclass(frozen=True)
class Feel:
    """The style's swing and the tempo every writer hears (None: no tempo to keep)."""

    swing: float
    tempo_bpm: float | None
