"""Surface forms the knowledge base derives from its tables instead of listing them by hand.

Mood words placed on the valence/arousal plane (mood_lexicon.yaml) read as the nearest mood;
an instrument's name followed by what it plays in a production ("piano stabs", "string
swells", instruments.yaml `playing_nouns`) names that instrument.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping
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


_PHRASE_BASE_WORDS = 2
"""Names of up to two words start a phrase ("grand piano stabs"); longer ones are not said so."""


def _stem(form: str) -> str | None:
    """The singular a plural name's phrases use ("strings" -> "string swells")."""
    if len(form) > 3 and form.endswith("s") and not form.endswith("ss"):
        return form[:-1]
    return None


def production_forms(
    surfaces: Mapping[str, Iterable[str]], nouns: Iterable[str], taken: Container[str]
) -> dict[str, list[str]]:
    """Instrument id -> the phrases "<name> <noun>" that name it ("piano stabs"), from each
    of its names of up to two words and the singular of a plural name. A phrase that already names something
    (`taken`: normalized surfaces) or that two instruments would derive is left out."""
    names: dict[str, set[str]] = {}
    for iid, forms in surfaces.items():
        for form in forms:
            names.setdefault(form, set()).add(iid)
    bases: dict[str, set[str]] = {}
    for form, owners in names.items():
        if len(form.split()) > _PHRASE_BASE_WORDS:
            continue
        bases.setdefault(form, set()).update(owners)
        stem = _stem(form)
        if stem is not None and stem not in names:
            bases.setdefault(stem, set()).update(owners)
    derived: dict[str, set[str]] = {}
    for base, owners in bases.items():
        for noun in nouns:
            derived.setdefault(f"{base} {noun}", set()).update(owners)
    out: dict[str, list[str]] = {}
    for phrase, owners in derived.items():
        if len(owners) == 1 and phrase not in taken:
            out.setdefault(next(iter(owners)), []).append(phrase)
    return out
