"""Music theory on pitch classes: keys, modes, chord symbols and roman numerals.

Bottom layer (imports nothing of Soundstar's but `models` and `errors`): the
planner turns numerals into chord symbols with it, the composer turns chord
symbols into pitches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from soundstar.errors import ParameterError
from soundstar.models import split_key

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

MODE_INTERVALS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
}
# Offset from a mode's tonic down to its parent major scale's tonic (for spelling).
_MODE_TO_RELATIVE_MAJOR = {
    "major": 0,
    "minor": 3,
    "dorian": -2,
    "phrygian": -4,
    "lydian": -5,
    "mixolydian": -7,
    "locrian": 1,
    "harmonic minor": 3,
    "melodic minor": 3,
}
_FLAT_MAJOR_KEYS = {5, 10, 3, 8, 1, 6}  # F Bb Eb Ab Db Gb

# Chord qualities as intervals above the root; the symbol suffixes that name them.
_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "mmaj7": (0, 3, 7, 11),
    "dim7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10),
    "7sus4": (0, 5, 7, 10),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
}
_SUFFIX_ALIASES = {
    "": "",
    "maj": "",
    "M": "",
    "m": "m",
    "min": "m",
    "-": "m",
    "dim": "dim",
    "o": "dim",
    "°": "dim",
    "aug": "aug",
    "+": "aug",
    "sus2": "sus2",
    "sus4": "sus4",
    "sus": "sus4",
    "5": "5",
    "6": "6",
    "m6": "m6",
    "min6": "m6",
    "7": "7",
    "dom7": "7",
    "maj7": "maj7",
    "M7": "maj7",
    "Δ": "maj7",
    "Δ7": "maj7",
    "m7": "m7",
    "min7": "m7",
    "-7": "m7",
    "mmaj7": "mmaj7",
    "mM7": "mmaj7",
    "dim7": "dim7",
    "o7": "dim7",
    "°7": "dim7",
    "m7b5": "m7b5",
    "ø": "m7b5",
    "ø7": "m7b5",
    "7sus4": "7sus4",
    "7sus": "7sus4",
    "9": "9",
    "maj9": "maj9",
    "m9": "m9",
    "min9": "m9",
    "add9": "add9",
    "madd9": "madd9",
}
_CHORD_RE = re.compile(r"^([A-G])([#b♯♭]?)([^/]*)(?:/([A-G])([#b♯♭]?))?$")
_NUMERAL_RE = re.compile(r"^([b#♭♯]?)(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(.*)$")
_NUMERAL_DEGREE = {"I": 0, "II": 1, "III": 2, "IV": 3, "V": 4, "VI": 5, "VII": 6}
_NUMERAL_SUFFIX = {
    # (suffix, uppercase?) -> chord quality
    ("", True): "",
    ("", False): "m",
    ("7", True): "7",
    ("7", False): "m7",
    ("maj7", True): "maj7",
    ("maj7", False): "mmaj7",
    ("6", True): "6",
    ("6", False): "m6",
    ("9", True): "9",
    ("9", False): "m9",
    ("sus2", True): "sus2",
    ("sus2", False): "sus2",
    ("sus4", True): "sus4",
    ("sus4", False): "sus4",
    ("o", False): "dim",
    ("o", True): "dim",
    ("°", False): "dim",
    ("o7", False): "dim7",
    ("o7", True): "dim7",
    ("ø7", False): "m7b5",
    ("ø", False): "m7b5",
    ("+", True): "aug",
    ("add9", True): "add9",
    ("add9", False): "madd9",
}


def pitch_class(name: str) -> int:
    """Pitch class of a note name: "C#" -> 1, "Db" -> 1, "Cb" -> 11."""
    text = name.strip().replace("♯", "#").replace("♭", "b")
    if not text or text[0].upper() not in _LETTER_PC:
        raise ParameterError(f"not a note name: {name!r}")
    pc = _LETTER_PC[text[0].upper()]
    for accidental in text[1:]:
        if accidental == "#":
            pc += 1
        elif accidental == "b":
            pc -= 1
        else:
            raise ParameterError(f"not a note name: {name!r}")
    return pc % 12


def uses_flats(tonic: str, mode: str) -> bool:
    """Whether the key is conventionally spelled with flats."""
    if "b" in tonic[1:]:
        return True
    if "#" in tonic[1:]:
        return False
    relative_major = (pitch_class(tonic) + _MODE_TO_RELATIVE_MAJOR[mode]) % 12
    return relative_major in _FLAT_MAJOR_KEYS


def note_name(pc: int, *, flats: bool = False) -> str:
    return (FLAT_NAMES if flats else SHARP_NAMES)[pc % 12]


def scale_pitch_classes(tonic: str, mode: str) -> tuple[int, ...]:
    """The seven pitch classes of a key, tonic first."""
    if mode not in MODE_INTERVALS:
        raise ParameterError(f"unknown mode {mode!r}")
    root = pitch_class(tonic)
    return tuple((root + i) % 12 for i in MODE_INTERVALS[mode])


def key_scale(key: str) -> tuple[int, ...]:
    tonic, mode = split_key(key)
    return scale_pitch_classes(tonic, mode)


@dataclass(frozen=True)
class Chord:
    """A parsed chord symbol."""

    symbol: str
    root_pc: int
    quality: str
    intervals: tuple[int, ...]
    bass_pc: int

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root_pc + i) % 12 for i in self.intervals)

    @property
    def is_minor(self) -> bool:
        return 3 in self.intervals and 4 not in self.intervals


@lru_cache(maxsize=4096)
def parse_chord(symbol: str) -> Chord:
    """Parse "Am", "F#m7b5", "Bbmaj7", "C/E", "G7sus4"; ParameterError on anything else."""
    text = symbol.strip().replace("♯", "#").replace("♭", "b")
    match = _CHORD_RE.match(text)
    if not match:
        raise ParameterError(f"not a chord symbol: {symbol!r}")
    letter, accidental, suffix, bass_letter, bass_accidental = match.groups()
    quality = _SUFFIX_ALIASES.get(suffix)
    if quality is None:
        quality = (
            _SUFFIX_ALIASES.get(suffix.lower()) if suffix.lower() in ("maj7", "maj9") else None
        )
    if quality is None:
        raise ParameterError(f"unknown chord quality {suffix!r} in {symbol!r}")
    root = pitch_class(letter + accidental)
    bass = pitch_class(bass_letter + (bass_accidental or "")) if bass_letter else root
    return Chord(text, root, quality, _QUALITIES[quality], bass)


def chord_symbol(root_pc: int, quality: str, *, flats: bool) -> str:
    if quality not in _QUALITIES:
        raise ParameterError(f"unknown chord quality {quality!r}")
    return note_name(root_pc, flats=flats) + quality


def numeral_to_chord(numeral: str, key: str, *, relative_to: str = "major") -> str:
    """Turn a roman numeral into a chord symbol in `key`.

    `relative_to="major"` reads degrees on the major scale of the tonic (the
    knowledge base writes minor-key progressions as i bVI bIII bVII);
    `relative_to="mode"` reads them on the key's own scale (how people write
    i-VI-III-VII in a minor key).
    """
    tonic, mode = split_key(key)
    text = numeral.strip().replace("♭", "b").replace("♯", "#")
    match = _NUMERAL_RE.match(text)
    if not match:
        raise ParameterError(f"not a roman numeral: {numeral!r}")
    accidental, roman, suffix = match.groups()
    degree = _NUMERAL_DEGREE[roman.upper()]
    scale = MODE_INTERVALS["major" if relative_to == "major" else mode]
    semis = scale[degree] + (-1 if accidental == "b" else 1 if accidental == "#" else 0)
    quality = _NUMERAL_SUFFIX.get((suffix, roman.isupper()))
    if quality is None:
        raise ParameterError(f"unknown numeral suffix {suffix!r} in {numeral!r}")
    root_pc = (pitch_class(tonic) + semis) % 12
    return chord_symbol(root_pc, quality, flats=uses_flats(tonic, mode))


def tonic_chord(key: str) -> str:
    """The home chord of a key: "Am" for A minor, "D" for D mixolydian."""
    tonic, mode = split_key(key)
    third = MODE_INTERVALS[mode][2]
    fifth = MODE_INTERVALS[mode][4]
    quality = "dim" if fifth == 6 else ("m" if third == 3 else "")
    return chord_symbol(pitch_class(tonic), quality, flats=uses_flats(tonic, mode))


def dominant_chord(key: str) -> str:
    """The chord that leads home: V (major, even in minor keys) or bVII in modal keys."""
    tonic, mode = split_key(key)
    flats = uses_flats(tonic, mode)
    root = pitch_class(tonic)
    if mode in ("major", "minor", "harmonic minor", "melodic minor"):
        return chord_symbol((root + 7) % 12, "", flats=flats)
    if mode == "mixolydian":
        return chord_symbol((root + 10) % 12, "", flats=flats)
    if mode == "dorian":
        return chord_symbol((root + 10) % 12, "", flats=flats)
    if mode == "phrygian":
        return chord_symbol((root + 1) % 12, "", flats=flats)
    if mode == "lydian":
        return chord_symbol((root + 2) % 12, "", flats=flats)
    return chord_symbol((root + 1) % 12, "", flats=flats)


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))
