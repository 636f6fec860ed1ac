"""Which key pitch classes and chords point to: the Krumhansl-Kessler key profiles, a
profile's correlation with each of the 24 major and minor keys, and the key a chord
loop is in.

Shared by the audio analysis (the key heard in a recording), the composer (whether the
chords state the key) and Aurora (a key for chords given without one), so it sits below
all three and depends on none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from soundstar.errors import ParameterError
from soundstar.models import split_key
from soundstar.theory import parse_chord, pitch_class

if TYPE_CHECKING:  # numpy is imported where a profile is computed: reading a prompt needs none
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
# Conventional spelling of each key's tonic by pitch class.
MAJOR_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

# A chord's bass note (its root, unless a slash chord names another) is heard twice, in the
# bass and in the chord: it counts this much more than the other tones. Weighting the root
# of "C/G" instead was tried and heard worse (PCM 15 -> 9 over 7 captions, 3 seeds).
_BASS_WEIGHT = 2.0
# Keys within this of the best key's correlation fit the chords about equally; a key the
# chords "state" beats every other of the 24 by this much.
STATED_MARGIN = 0.05
# A loop of diatonic chords correlates with its major key about 0.11 above the relative
# minor: either may be home, and the mood or the first chord decides.
_RELATIVE_MARGIN = 0.15


def tonic_name(pc: int, minor: bool) -> str:
    """The conventional spelling of a key's tonic: "Db" for a major key, "C#" for a minor one."""
    return (MINOR_TONICS if minor else MAJOR_TONICS)[pc % 12]


@cache
def _key_templates() -> tuple[tuple[str, ...], FloatArray]:
    import numpy as np

    names: list[str] = []
    rows: list[FloatArray] = []
    modes = (("major", KK_MAJOR, MAJOR_TONICS), ("minor", KK_MINOR, MINOR_TONICS))
    for mode, profile, tonics in modes:
        base = np.asarray(profile, dtype=np.float64)
        for pc in range(12):
            names.append(f"{tonics[pc]} {mode}")
            rows.append(np.roll(base, pc))
    return tuple(names), np.stack(rows)


def key_correlations(pitch_class_weights: Sequence[float] | FloatArray) -> dict[str, float]:
    """Pearson correlation of a 12-bin pitch-class profile (C first) with each of
    the 24 Krumhansl-Kessler key profiles."""
    import numpy as np

    weights = np.asarray(pitch_class_weights, dtype=np.float64)
    if weights.shape != (12,) or not np.all(np.isfinite(weights)):
        raise ParameterError("a pitch-class profile has 12 finite values, C first")
    if np.ptp(weights) == 0:
        raise ParameterError("the pitch-class profile is flat: no pitched content to find a key in")
    names, templates = _key_templates()
    x = weights - weights.mean()
    t = templates - templates.mean(axis=1, keepdims=True)
    r = (t @ x) / (np.linalg.norm(t, axis=1) * np.linalg.norm(x))
    return dict(zip(names, (float(v) for v in r), strict=True))


def best_key(pitch_class_weights: Sequence[float] | FloatArray) -> tuple[str, float]:
    """The best-correlated key for a pitch-class profile, and its correlation."""
    correlations = key_correlations(pitch_class_weights)
    name = max(correlations, key=correlations.__getitem__)
    return name, correlations[name]


def chord_weights(chords: Iterable[tuple[str, float]]) -> FloatArray:
    """Pitch-class weights (C first) of (chord symbol, beats) pairs; bass notes count double."""
    import numpy as np

    weights = np.zeros(12, dtype=np.float64)
    for symbol, beats in chords:
        chord = parse_chord(symbol)
        for pc in chord.pitch_classes:
            weights[pc] += beats
        weights[chord.bass_pc] += beats * (_BASS_WEIGHT - 1.0)
    return weights


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
    if not chords or weights.max() == weights.min():
        return {}
    correlations = key_correlations(weights)
    best_name = max(correlations, key=lambda name: correlations[name])
    best = correlations[best_name]
    fits = {name: r for name, r in correlations.items() if r >= best - STATED_MARGIN}
    relative = _relative(best_name)
    if correlations[relative] >= best - _RELATIVE_MARGIN:
        fits[relative] = correlations[relative]
    return fits


def _relative(key: str) -> str:
    """The relative minor of a major key, the relative major of a minor one."""
    tonic, mode = split_key(key)
    pc = pitch_class(tonic)
    if mode == "minor":
        return f"{tonic_name((pc + 3) % 12, False)} major"
    return f"{tonic_name((pc + 9) % 12, True)} minor"
