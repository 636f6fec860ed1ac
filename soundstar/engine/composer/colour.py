"""Valence heard in the harmony: the chords the composer chose, coloured darker or brighter.

Each rule of data/character.yaml whose valence range holds turns one chord of the key
(semitones above the tonic, triad kind) into another: a borrowed iv or bVI at low
valence, a major IV in a minor key or a III at high; plain major triads take an added
tone at high valence. Chords the person stated are never recoloured.
"""

from __future__ import annotations

from collections.abc import Sequence

from soundstar.engine.character_data import ValenceData
from soundstar.models import split_key
from soundstar.theory import MODE_INTERVALS, chord_symbol, parse_chord, pitch_class, uses_flats

# A chord's quality as the other triad kind (its extension kept where it has one).
_AS_MINOR = {"": "m", "maj7": "m7", "7": "m7", "6": "m6", "add9": "madd9", "maj9": "m9", "9": "m9"}
_AS_MAJOR = {"m": "", "m7": "7", "m6": "6", "madd9": "add9", "m9": "9"}


def _kind(quality: str) -> str | None:
    if quality in _AS_MINOR:
        return "major"
    return "minor" if quality in _AS_MAJOR else None


def colour_chord(symbol: str, key: str, valence: float, rules: ValenceData) -> str:
    """`symbol` in `key` as the valence colours it (unchanged where no rule holds)."""
    tonic, mode = split_key(key)
    minor_key = MODE_INTERVALS[mode][2] == 3
    chord = parse_chord(symbol)
    if chord.bass_pc != chord.root_pc:
        return symbol
    tonic_pc = pitch_class(tonic)
    degree = (chord.root_pc - tonic_pc) % 12
    kind = _kind(chord.quality)
    flats = uses_flats(tonic, mode)
    for rule in rules.chords:
        if rule.holds(valence, minor_key) and rule.from_ == (degree, kind):
            to_degree, to_kind = rule.to
            quality = chord.quality
            if to_kind != kind:
                quality = (_AS_MINOR if to_kind == "minor" else _AS_MAJOR)[quality]
            borrowed = to_degree not in MODE_INTERVALS[mode]  # a lowered degree: Ab in C
            return chord_symbol((tonic_pc + to_degree) % 12, quality, flats=flats or borrowed)
    if valence > rules.bright_above and chord.quality == "":
        bright = chord_symbol(chord.root_pc, rules.bright_extension, flats=flats)
        scale = {(tonic_pc + i) % 12 for i in MODE_INTERVALS[mode]}
        if set(parse_chord(bright).pitch_classes) <= scale:
            return bright
    return symbol


def colour_chords(chords: Sequence[str], key: str, valence: float, rules: ValenceData) -> list[str]:
    """Every chord coloured by the valence (see `colour_chord`)."""
    return [colour_chord(c, key, valence, rules) for c in chords]
