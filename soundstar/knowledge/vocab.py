"""Controlled vocabularies of the knowledge base: the values the engine and parser understand."""

from __future__ import annotations

from typing import Literal, get_args

from soundstar.models import InstrumentFamily

RoleName = Literal["lead", "chords", "pad", "bass", "drums", "percussion", "arp", "texture"]
FamilyName = InstrumentFamily
TimbreName = Literal[
    "piano",
    "electric_piano",
    "organ",
    "harpsichord",
    "guitar_acoustic",
    "guitar_clean",
    "guitar_distorted",
    "bass_electric",
    "bass_acoustic",
    "bass_synth",
    "bass_808",
    "strings",
    "strings_pizzicato",
    "brass",
    "reed",
    "flute",
    "synth_lead",
    "synth_pad",
    "synth_pluck",
    "supersaw",
    "bell",
    "mallet",
    "plucked",
    "choir",
]
DrumVoiceName = Literal[
    "kick",
    "snare",
    "clap",
    "rim",
    "closed_hat",
    "open_hat",
    "pedal_hat",
    "ride",
    "ride_bell",
    "crash",
    "tom_low",
    "tom_mid",
    "tom_high",
    "shaker",
    "tambourine",
    "conga_high",
    "conga_low",
    "bongo_high",
    "bongo_low",
    "cowbell",
    "clave",
    "woodblock",
    "triangle",
]
KitName = Literal[
    "acoustic", "brush", "electronic_808", "electronic_909", "lofi", "breakbeat", "latin"
]
CompingName = Literal[
    "block",
    "stabs",
    "arpeggio",
    "strum",
    "pad",
    "broken",
    "offbeat_skank",
    "montuno",
    "pulse",
    "palm_mute",
    "roll",
    "fingerpick",
    "neo_soul_keys",
    "shuffle_bowing",
    "piano_comp",
    "piano_broken",
    "jazz_comp",
    "none",
]
ModeName = Literal[
    "major",
    "minor",
    "dorian",
    "phrygian",
    "lydian",
    "mixolydian",
    "locrian",
    "harmonic minor",
    "melodic minor",
]
TransitionName = Literal[
    "build", "drop", "fill", "fade", "cut", "riser", "breakdown", "swell", "turnaround"
]
FeelName = Literal["straight", "half_time", "double_time"]
PlaysName = Literal[
    "kit", "kit_piece", "hand_percussion", "shaker", "pitched_percussion", "melodic", "voice"
]
DrumGrooveRole = Literal["kit", "hand_percussion"]

ROLES: tuple[str, ...] = get_args(RoleName)
FAMILIES: tuple[str, ...] = get_args(FamilyName)
TIMBRES: tuple[str, ...] = get_args(TimbreName)
DRUM_VOICES: tuple[str, ...] = get_args(DrumVoiceName)
DRUM_KITS: tuple[str, ...] = get_args(KitName)
COMPING_STYLES: tuple[str, ...] = get_args(CompingName)
MODES: tuple[str, ...] = get_args(ModeName)
PLAYS: tuple[str, ...] = get_args(PlaysName)
TRANSITION_TYPES: tuple[str, ...] = get_args(TransitionName)

DRUM_HITS = frozenset("Xxo.")
"""Drum pattern characters: accent, normal, ghost, rest."""
BASS_STEPS = frozenset("Rr5378aW-.")
"""Bass pattern characters: root, soft root, fifth, third, seventh, octave, approach, walk, hold, rest."""
