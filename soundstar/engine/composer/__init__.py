"""Structure stage: MusicalParameters + StructuralPlan + seed → a multi-track Score.

`compose` builds the timeline (bars, sections, a chord per bar), arranges the lineup into
parts (`arrange`: who plays what, decided once), writes each part with the writer for its
kind (`writers.WRITERS`), then shapes them all by the piece's energy, danceability and
valence (`shaping.shape_parts`). Deterministic for a seed: each part draws from its own
generator seeded by (seed, its place in the lineup), so the same request always gives the
same music.
"""

from __future__ import annotations

import numpy as np

from soundstar.engine.composer.arrange import Part, PartKind, arrange, beat_keeper
from soundstar.engine.composer.character import character_of
from soundstar.engine.composer.feel import Feel
from soundstar.engine.composer.grooves import style_of
from soundstar.engine.composer.shaping import shape_parts
from soundstar.engine.composer.timeline import Timeline, build_timeline
from soundstar.engine.composer.writers import WRITERS, WriteContext
from soundstar.knowledge import load_knowledge
from soundstar.models import (
    ChordEvent,
    MusicalParameters,
    Note,
    Score,
    ScoreSection,
    StructuralPlan,
    Track,
)
from soundstar.theory import key_scale, pitch_class

__all__ = [
    "Part",
    "PartKind",
    "Timeline",
    "arrange",
    "beat_keeper",
    "build_timeline",
    "compose",
]


_SHAPING_STREAM = 10_000  # past any lineup's places


def _shift_octave(notes: list[Note], octave: int, register: tuple[int, int]) -> list[Note]:
    """The part an octave lower or higher ("low strings"), when its middle note stays in
    the instrument's register; unchanged otherwise (the instrument cannot go there)."""
    if not notes or not octave:
        return notes
    middle = float(np.median([n.pitch for n in notes])) + 12 * octave
    if not register[0] <= middle <= register[1]:
        return notes
    return [n.moved_to(int(np.clip(n.pitch + 12 * octave, 0, 127))) for n in notes]


def _track(part: Part, notes: list[Note], timeline: Timeline) -> Track:
    """The track of a part: its notes cut to the piece's end."""
    end = timeline.total_beats
    kept = [
        n.retimed(duration_beats=min(n.duration_beats, end - n.start_beat))
        for n in notes
        if n.start_beat < end
    ]
    return Track(
        name=part.track_name,
        instrument=part.instrument,
        role=part.role,
        program=part.program,
        is_drum=part.is_drum,
        featured=part.featured,
        notes=kept,
    )


def compose(
    params: MusicalParameters, plan: StructuralPlan, *, seed: int, loops: bool = False
) -> Score:
    """Write every part of the piece for the requested key, tempo, meter, length and lineup;
    a loop (`loops`) has no ending and its last bar leads back to its first."""
    kb = load_knowledge()
    genre = style_of(kb, params)
    timeline = build_timeline(params, plan, loops=loops)
    parts = arrange(params, kb)
    streams: dict[int, np.random.Generator] = {}
    written: dict[int, list[Note]] = {}
    scale = key_scale(params.key)
    tonic_pc = pitch_class(params.tonic)
    feel = Feel(swing=genre.swing, tempo_bpm=params.tempo_bpm)
    character = character_of(params, genre)
    for place, part in enumerate(parts):
        rng = streams.setdefault(part.stream, np.random.default_rng([seed, part.stream]))
        ctx = WriteContext(timeline, scale, tonic_pc, feel, rng, written, character)
        written[place] = WRITERS[part.kind](part, ctx)
    # the character's own stream, so shaping never moves what a writer drew
    shaped = shape_parts(
        parts,
        [written[place] for place in range(len(parts))],
        timeline,
        character,
        np.random.default_rng([seed, _SHAPING_STREAM]),
    )
    tracks = [
        _track(part, _shift_octave(notes, part.octave, part.register), timeline)
        for part, notes in zip(parts, shaped, strict=True)
    ]
    return Score(
        tempo_bpm=params.tempo_bpm,
        time_signature=params.time_signature,
        key=params.key,
        total_beats=timeline.total_beats,
        sections=[
            ScoreSection(
                name=s.name, start_bar=s.start_bar, end_bar=s.end_bar, energy_level=s.energy
            )
            for s in timeline.sections
        ],
        chords=[
            ChordEvent(
                symbol=symbol,
                start_beat=timeline.bar_start(bar),
                duration_beats=timeline.bar_length(bar),
            )
            for bar, symbol in enumerate(timeline.chords)
        ],
        tracks=tracks,
        drum_kit=genre.drum_kit or "acoustic",
        sidechain=genre.sidechain,
        timing_spread=round(character.timing_spread, 6),
        genre=genre.id,
    )
