"""Mood words the knowledge base derives rather than lists by hand: words placed on the
valence/arousal plane (mood_lexicon.yaml) read as the nearest mood of moods.yaml."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soundstar.knowledge.records import Mood

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
"""(valence, arousal), the plane of moods.yaml."""


class MoodLexicon(BaseModel):
    """Words placed on the mood plane: feelings (`words`) and scenes that call one up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scene_moods: tuple[str, ...] = Field(
        default=(), description="moods a feeling word never lands on by coordinates alone"
    )
    words: dict[str, Point]
    scenes: dict[str, Point] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _clean_words(self) -> Self:
        for word in (*self.words, *self.scenes):
            if word != word.lower().strip() or not word or "-" in word:
                raise ValueError(f"{word!r} must be lowercase, spaced words (no hyphens)")
        both = sorted(set(self.words) & set(self.scenes))
        if both:
            raise ValueError(f"{both[0]!r} is both a feeling and a scene")
        return self


def distance(point: Point, mood: Mood) -> float:
    """Euclidean distance on the valence/arousal plane."""
    return math.hypot(point[0] - mood.valence, point[1] - mood.arousal)


def nearest_mood(moods: Mapping[str, Mood], point: Point, among: Iterable[str]) -> str:
    """The id of the mood of `among` nearest to `point`; the first in file order on a tie."""
    allowed = set(among)
    candidates = [m for m in moods.values() if m.id in allowed]
    if not candidates:
        raise ValueError("no mood to place a word on")
    return min(candidates, key=lambda m: distance(point, m)).id


def lexicon_moods(moods: Mapping[str, Mood], lexicon: MoodLexicon) -> dict[str, str]:
    """Every lexicon word -> the id of its nearest mood: feelings among the feeling moods,
    scenes among all moods."""
    feelings = [mid for mid in moods if mid not in set(lexicon.scene_moods)]
    out = {word: nearest_mood(moods, point, feelings) for word, point in lexicon.words.items()}
    out.update({word: nearest_mood(moods, point, moods) for word, point in lexicon.scenes.items()})
    return out
