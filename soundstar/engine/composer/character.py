"""How valence, danceability and energy are heard, read once from data/character.yaml.

`character_of` turns a piece's three controls into a `Character`: the few numbers the
writers read (where the melody sits and leans, how bright the voicings are) and the
shaping reads (`shaping.shape_parts`: how steady the groove is, how full the lineup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from soundstar.engine.character_data import (
    CharacterData,
    Span,
    character_data,
)
from soundstar.knowledge import Genre
from soundstar.models import MusicalParameters


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
    def timing_spread(self) -> float:
        """The share of the style's humanised timing the players keep: all of it up to the
        style's own danceability, down to `tight_at_top` at danceability 1."""
        above = self.danceability - self.style_danceability
        if above <= 0 or self.style_danceability >= 1:
            return 1.0
        share = above / (1.0 - self.style_danceability)
        return 1.0 - (1.0 - self.data.danceability.tight_at_top) * share

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
