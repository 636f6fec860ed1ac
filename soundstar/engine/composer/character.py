"""How valence, danceability and energy are heard, read once from data/character.yaml.

`character_of` turns a piece's three controls into a `Character`: the few numbers the
writers read (where the melody sits and leans, how bright the voicings are) and the
shaping reads (`shaping.shape_parts`: how steady the groove is, how full the lineup).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundstar.errors import ConfigError
from soundstar.knowledge import Genre
from soundstar.models import MusicalParameters
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
    text = resources.files("soundstar.engine").joinpath("data/character.yaml").read_text("utf-8")
    try:
        return CharacterData.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ConfigError(f"data/character.yaml is invalid: {exc}") from exc


def _between(span: Span, amount: float) -> float:
    return span[0] + (span[1] - span[0]) * amount


@dataclass(frozen=True)
class MelodyShape:
    """Where a tune sits and how it moves: its range moved by `shift` semitones, its steps
    leaning up (`lean` > 0) or down, its leaps widened or narrowed by `leap`, and its
    strong beats leaning on the major key's pillars (`pull` > 0) or the minor's (< 0), with
    that chance."""

    shift: float = 0.0
    lean: float = 0.0
    leap: float = 1.0
    pull: float = 0.0


@dataclass(frozen=True)
class Character:
    """A piece's valence, danceability and energy (0-1) as the composer hears them."""

    valence: float
    danceability: float
    energy: float
    data: CharacterData
    style_danceability: float = 0.5  # the genre's own: where its groove is played as written

    @property
    def melody(self) -> MelodyShape:
        v = self.data.valence
        return MelodyShape(
            shift=_between(v.melody_shift, self.valence),
            lean=_between(v.melody_lean, self.valence),
            leap=_between(v.melody_leap, self.valence),
            pull=_between(v.melody_pull, self.valence),
        )

    @property
    def voicing_shift(self) -> int:
        """Semitones the chord and pad voicings move: lower and darker at low valence."""
        return round(_between(self.data.valence.voicing_shift, self.valence))

    @property
    def velocity_shift(self) -> int:
        return round(_between(self.data.valence.velocity, self.valence))

    def _above_style(self, margin: float) -> bool:
        return self.danceability >= self.style_danceability + margin - 1e-9

    @property
    def looseness(self) -> float:
        """0 for the style's own groove; up to 1 at danceability 0 (sparse, rubato-like)."""
        d = self.data.danceability
        edge = min(d.loose_below, self.style_danceability + d.loose_margin)
        return max(0.0, (edge - self.danceability) / edge) if edge > 0 else 0.0

    @property
    def locked(self) -> bool:
        """The bass moves onto the kick."""
        return self._above_style(self.data.danceability.lock_margin)

    @property
    def steady(self) -> bool:
        """A clear pulse is asked for: where no drums play, a part marks every beat."""
        return self._above_style(self.data.danceability.strong_kicks_margin)

    @property
    def added_kicks(self) -> Literal["none", "strong", "every"]:
        """Which felt beats the kick marks where the groove leaves them empty."""
        d = self.data.danceability
        if self._above_style(d.every_kick_margin):
            return "every"
        return "strong" if self._above_style(d.strong_kicks_margin) else "none"

    def velocity_factor(self, section_energy: float) -> float:
        return _between(self.data.energy.velocity_factor, section_energy)


def character_of(params: MusicalParameters, style: Genre) -> Character:
    """The piece's character from its parameters (the controls as set and settled), beside
    its style's own danceability."""
    return Character(
        valence=params.valence,
        danceability=params.danceability,
        energy=params.energy_level,
        data=character_data(),
        style_danceability=style.danceability,
    )
