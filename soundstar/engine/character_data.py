"""The numbers behind valence, danceability and energy, read once from data/character.yaml.

Kept apart from the composer (no numpy), so the understanding side (`soundstar.settle`)
reads them without importing the engine.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soundstar.engine.data_file import load_data_file
from soundstar.theory import MODE_INTERVALS

TriadKind = Literal["major", "minor"]
Span = tuple[float, float]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChordRule(_Data):
    """Within a valence range, the chord `from` (semitones above the tonic, triad kind) of
    a key of `mode`'s kind is played as `to`: a borrowed iv, a brighter III."""

    below: float | None = None
    above: float | None = None
    mode: TriadKind
    from_: tuple[int, TriadKind] = Field(alias="from")
    to: tuple[int, TriadKind]

    @model_validator(mode="after")
    def _one_side(self) -> ChordRule:
        if (self.below is None) == (self.above is None):
            raise ValueError("a chord rule holds below or above a valence, not both")
        return self

    def holds(self, valence: float, minor_key: bool) -> bool:
        if self.mode != ("minor" if minor_key else "major"):
            return False
        if self.below is not None:
            return valence < self.below
        return self.above is not None and valence > self.above


class ValenceData(_Data):
    minor_below: float
    major_above: float
    dark_mode: str
    bright_mode: str
    brightness: tuple[str, ...]

    @model_validator(mode="after")
    def _modes_known(self) -> ValenceData:
        for mode in (self.dark_mode, self.bright_mode, *self.brightness):
            if mode not in MODE_INTERVALS:
                raise ValueError(f"unknown mode {mode!r}")
        return self

    def mode_for(self, mode: str, valence: float) -> str:
        """The mode the valence asks for, on the same tonic (see data/character.yaml)."""
        rank = self.brightness.index
        if mode not in self.brightness:
            return mode
        if valence <= self.minor_below and rank(mode) < rank(self.dark_mode):
            return self.dark_mode
        if valence >= self.major_above and rank(mode) > rank(self.bright_mode):
            return self.bright_mode
        return mode

    chords: tuple[ChordRule, ...]
    bright_above: float
    bright_extension: str
    melody_shift: Span
    melody_lean: Span
    melody_leap: Span
    melody_pull: Span
    voicing_shift: Span
    velocity: Span


class DanceabilityData(_Data):
    loose_margin: float
    loose_below: float
    drop_at_zero: float
    rubato_beats: float
    jitter_beats: float
    lock_margin: float
    lock_window: float
    strong_kicks_margin: float
    every_kick_margin: float
    added_kick_velocity: float
    tight_at_top: float = Field(ge=0.0, le=1.0)


class EnergyData(_Data):
    velocity_factor: Span
    rests_below: dict[str, float]
    thin_below: float = Field(gt=0.0)
    busy_above: float = Field(ge=0.0, lt=1.0)


class CharacterData(_Data):
    """The musical choices behind the three controls (see data/character.yaml)."""

    stated_reach: float = Field(ge=0.0, le=1.0)
    valence: ValenceData
    danceability: DanceabilityData
    energy: EnergyData


@cache
def character_data() -> CharacterData:
    """The character data, read once from the engine's data."""
    return load_data_file("character.yaml", CharacterData)
