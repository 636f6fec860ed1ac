"""Where a part's groove comes from: the style's own, its ancestors', or the meter's plain one.

Each groove says in the knowledge base who plays it (`role`: a kit or a hand percussionist)
and whether it is its meter's plain groove (`plain`), so the lookup never reads meaning
into an id or the order of a file.
"""

from __future__ import annotations

from collections.abc import Iterator

from soundstar.engine.composer.bass_part import basic_bass
from soundstar.engine.composer.drums_part import basic_groove
from soundstar.engine.composer.strokes import pattern_voices
from soundstar.errors import ParameterError
from soundstar.knowledge import BassGroove, DrumBar, DrumGroove, Genre, KnowledgeBase
from soundstar.models import MusicalParameters, split_meter


def style_of(kb: KnowledgeBase, params: MusicalParameters) -> Genre:
    """The genre the piece is played in: its sub-genre, else its genre, else pop."""
    for name in (params.sub_genre, params.genre):
        if name:
            genre = kb.find_genre(name)
            if genre is not None:
                return genre
    fallback = kb.find_genre("pop")
    if fallback is None:  # pragma: no cover - the knowledge base always has pop
        raise ParameterError(f"unknown genre {params.genre!r}")
    return fallback


def _lineage(kb: KnowledgeBase, genre: Genre) -> list[Genre]:
    """The genre, then its parent, grandparent, ...: where a style's grooves are looked up."""
    return [genre] + [kb.genres[g] for g in kb.genre_ancestors(genre.id) if g in kb.genres]


def _style_drum_grooves(kb: KnowledgeBase, genre: Genre, meter: str) -> Iterator[DrumGroove]:
    """The drum grooves in the meter of the genre, then of its parent, grandparent, ..."""
    for style in _lineage(kb, genre):
        for gid in style.drum_grooves:
            groove = kb.drum_grooves.get(gid)
            if groove is not None and groove.meter == meter:
                yield groove


def kit_groove(kb: KnowledgeBase, genre: Genre, meter: str) -> DrumGroove:
    """The first groove in the meter of the genre's, else of its nearest ancestor's, else
    the meter's plain kit groove (a waltz, not a jazz waltz, for a pop song in 3/4), else
    a basic one built for the meter."""
    styled = next(_style_drum_grooves(kb, genre, meter), None)
    if styled is not None:
        return styled
    for groove in kb.drum_grooves.values():
        if groove.plain and groove.meter == meter:
            return groove
    num, den = split_meter(meter)
    return basic_groove(num * 4.0 / den, num)


def percussion_groove(
    kb: KnowledgeBase, genre: Genre, meter: str, voices: tuple[str, ...]
) -> DrumGroove | None:
    """Where a hand percussionist's patterns come from: the style's (or its nearest
    ancestor's) groove in the meter, if it has one for any of the voices (a salsa's
    tumbao); else the hand-percussion groove of the meter; None in a meter with neither."""
    for groove in _style_drum_grooves(kb, genre, meter):
        if pattern_voices(groove, fill=False, ghosts=False) & set(voices):
            return groove
    return next(
        (g for g in kb.drum_grooves.values() if g.role == "hand_percussion" and g.meter == meter),
        None,
    )


def bass_groove(
    kb: KnowledgeBase, genre: Genre, meter: str, asked: str | None = None
) -> BassGroove:
    """The groove a descriptor asked for ("pulsing bass"), if it fits the meter; else the
    first in the meter of the genre's or its nearest ancestor's; else the meter's plain
    groove; else a root on every beat."""
    styles = [gid for style in _lineage(kb, genre) for gid in style.bass_grooves]
    for gid in ([asked] if asked else []) + styles:
        groove = kb.bass_grooves.get(gid)
        if groove is not None and groove.meter == meter:
            return groove
    for groove in kb.bass_grooves.values():
        if groove.plain and groove.meter == meter:
            return groove
    num, den = split_meter(meter)
    return basic_bass(num * 4.0 / den, num)


def kit_voice_names(groove: DrumGroove) -> frozenset[str]:
    """Every voice a kit playing `groove` is heard on: the groove's (ghost notes alone are
    not heard as the piece: a techno rim is no snare), with the kick and crash it plays on
    the last bar and at lively section starts."""
    return pattern_voices(groove, ghosts=False) | {"kick", "crash"}


def without_voices(groove: DrumGroove, voices: frozenset[str]) -> DrumGroove | None:
    """The groove less `voices` (taken by named players to tracks of their own, or left
    out by the person), in every bar, its fill too; None where nothing of its beat is left."""

    def less(bar: DrumBar | None) -> DrumBar | None:
        if bar is None:
            return None
        rest = {k: v for k, v in bar.voices.items() if k not in voices}
        return bar.model_copy(update={"voices": rest}) if rest else None

    kept = {k: v for k, v in groove.voices.items() if k not in voices}
    if not kept:
        return None
    if not pattern_voices(groove) & voices:
        return groove
    return groove.model_copy(
        update={
            "voices": kept,
            "alternate": less(groove.alternate),
            "fill": less(groove.fill),
            "variations": tuple(v for v in map(less, groove.variations) if v is not None),
        }
    )
