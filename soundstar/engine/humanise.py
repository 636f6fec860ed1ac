"""Humanised timing and velocity: how far a style's players sit from the grid, as data.

The score is what is written, on the grid; `perform` is how the style's players play it,
and is what the renderer hears. engine/data/humanise.yaml states, per style (looked up
through the genre's ancestors), the most a note moves in time (ms), the spread of its
velocity, and how far behind the beat whole roles sit (keys laid back in neo-soul). Notes
struck together move together (a hand strikes a chord at once); each track draws from a
generator of its own seeded by (seed, its place), so a seed gives the same performance.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from soundstar.engine.data_file import load_data_file
from soundstar.knowledge import Genre, KnowledgeBase
from soundstar.models import Note, Role, Score


class Humanise(BaseModel):
    """How one style's players leave the grid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timing_ms: float = Field(ge=0.0, le=40.0, description="the most a note moves either way")
    velocity_spread: float = Field(ge=0.0, le=20.0, description="velocity standard deviation")
    behind_ms: dict[Role, float] = Field(
        default_factory=dict, description="roles that sit this late, every note"
    )


class HumaniseData(BaseModel):
    """data/humanise.yaml: the default feel and each style's own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Humanise
    styles: dict[str, Humanise]


@cache
def humanise_data() -> HumaniseData:
    """The humanisation table, read once from the engine's data."""
    return load_data_file("humanise.yaml", HumaniseData)


def humanise_of(kb: KnowledgeBase, genre: Genre) -> Humanise:
    """The feel of `genre`: its own entry, else its nearest ancestor's, else the default."""
    table = humanise_data()
    for gid in (genre.id, *kb.genre_ancestors(genre.id)):
        if gid in table.styles:
            return table.styles[gid]
    return table.default


def humanise(
    notes: list[Note],
    feel: Humanise,
    role: Role,
    tempo_bpm: float,
    rng: np.random.Generator,
) -> list[Note]:
    """`notes` played by a person: each onset (the notes starting on it together) moved by
    at most `timing_ms` (normal, sd a half of it, clipped) plus the role's `behind_ms`,
    never before the piece's start; each velocity spread by `velocity_spread`."""
    if not notes:
        return []
    beats_per_ms = tempo_bpm / 60_000.0
    starts = np.array([n.start_beat for n in notes])
    onsets, which = np.unique(starts, return_inverse=True)
    jitter = np.clip(
        rng.normal(0.0, feel.timing_ms / 2, onsets.size), -feel.timing_ms, feel.timing_ms
    )
    shift = (jitter + feel.behind_ms.get(role, 0.0)) * beats_per_ms
    played = np.maximum(starts + shift[which], 0.0).round(6)
    velocity = np.array([n.velocity for n in notes]) + rng.normal(
        0.0, feel.velocity_spread, len(notes)
    )
    velocity = np.clip(np.round(velocity), 1, 127).astype(int)
    # every value is in its field's bounds (clipped above): built without re-validation
    return [
        Note.model_construct(
            pitch=n.pitch,
            start_beat=float(b),
            duration_beats=n.duration_beats,
            velocity=int(v),
            glide_from=n.glide_from,
            glide_beats=n.glide_beats,
        )
        for n, b, v in zip(notes, played, velocity, strict=True)
    ]


_STREAM = 2000  # a track's generator: (seed, _STREAM + its place), apart from the renderer's


def perform(score: Score, kb: KnowledgeBase, *, seed: int) -> Score:
    """`score` as its style's players play it (see `humanise`), their timing spread as
    tight as the score asks (`Score.timing_spread`); unchanged where the style plays on
    the grid. A note is never moved past the piece's end."""
    genre = kb.genres.get(score.genre) if score.genre else None
    feel = humanise_of(kb, genre) if genre is not None else humanise_data().default
    if feel.timing_ms == 0 and feel.velocity_spread == 0 and not feel.behind_ms:
        return score
    tightened = feel.model_copy(update={"timing_ms": feel.timing_ms * score.timing_spread})
    tracks = []
    for place, track in enumerate(score.tracks):
        rng = np.random.default_rng([seed, _STREAM + place])
        played = humanise(track.notes, tightened, track.role, score.tempo_bpm, rng)
        kept = [
            p
            if p.start_beat < score.total_beats
            else p.model_copy(update={"start_beat": n.start_beat})
            for p, n in zip(played, track.notes, strict=True)
        ]
        tracks.append(track.model_copy(update={"notes": kept}))
    return score.model_copy(update={"tracks": tracks})
