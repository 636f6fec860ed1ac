"""What the person stated wins over what an enhancement added (spec v2 §10.2, §3.2.1).

The quick parse reads the person's own words; the detailed parse reads the
enhanced prompt. Wherever the person stated something (an explicit BPM, a key,
a meter, a named genre, a duration, chords, sections, exclusions), the quick
parse's value is kept, whatever the enhancement says.
"""

from __future__ import annotations

from typing import Any

from soundstar.knowledge import load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import ParsedParameters, Provenance

STATED = 0.9
"""The offline parser's confidence for what is named outright (meter, genre)."""


def keep_stated(quick: ParsedParameters, detailed: ParsedParameters) -> ParsedParameters:
    """`detailed`, with every stated value of `quick` restored and every exclusion applied."""
    kb = load_knowledge()
    updates: dict[str, Any] = {}
    if quick.tempo.type == "explicit":
        updates["tempo"] = quick.tempo
    if quick.key_signature.value:
        updates["key_signature"] = quick.key_signature
    if quick.time_signature.confidence >= STATED:
        updates["time_signature"] = quick.time_signature
    if quick.genre.confidence >= STATED:
        updates["genre"] = quick.genre
        if quick.sub_genre.value or (
            detailed.sub_genre.value and not _child_of(detailed.sub_genre.value, quick.genre.value)
        ):
            updates["sub_genre"] = quick.sub_genre
    for name in ("duration_seconds", "chord_progression", "section_names"):
        if getattr(quick, name) is not None:
            updates[name] = getattr(quick, name)
    exclusions = quick.exclusions.merged(detailed.exclusions)
    updates["exclusions"] = exclusions
    stated = {m.name for m in quick.instrumentation}
    instruments = []
    for mention in detailed.instrumentation:
        inst = kb.instruments.get(mention.name) or kb.find_instrument(mention.name)
        if inst is not None and excludes(exclusions, inst, mention.role):
            continue
        if mention.name not in stated:  # the enhancement added it
            mention = mention.model_copy(update={"provenance": Provenance.INFERRED})
        instruments.append(mention)
    names = {m.name for m in instruments}
    instruments.extend(m for m in quick.instrumentation if m.name not in names)
    updates["instrumentation"] = instruments
    moods = [m for m in detailed.mood if m.value not in exclusions.moods]
    have = {m.value for m in moods}
    moods.extend(m for m in quick.mood if m.value not in have)
    updates["mood"] = moods
    return detailed.model_copy(update=updates)


def _child_of(sub_genre: str, genre: str) -> bool:
    kb = load_knowledge()
    sub, parent = kb.find_genre(sub_genre), kb.find_genre(genre)
    return sub is not None and parent is not None and parent.id in kb.genre_ancestors(sub.id)
