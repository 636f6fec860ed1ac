"""The offline structural planner: sections, energy curve, transitions and harmony.

A stated structure, section list or chord progression is used as stated; what
is not stated comes from the genre's templates and progressions in the
knowledge base, chosen so that the same parameters always give the same plan.
"""

from __future__ import annotations

import hashlib
import itertools
import re

from soundstar.aurora.refit import bars_in, in_whole_bars
from soundstar.knowledge import Genre, KnowledgeBase, Structure, load_knowledge
from soundstar.models import (
    ChordProgression,
    MusicalParameters,
    PlanSection,
    StructuralPlan,
    Transition,
    split_key,
)
from soundstar.theory import numeral_to_chord, tonic_chord

SHORT_PIECE_S = 15.0
# A section longer than this is heard as a piece standing still: a longer piece plays its
# body (the sections between the first and the last) again, developed, instead.
LONG_SECTION_S = 60.0
_MAX_COPIES = 8
_NUMBERED = re.compile(r"^(?P<base>.+?)\s+\d+$")
_SECTION_ENERGY = {
    "intro": 0.3, "verse": 0.5, "prechorus": 0.6, "pre-chorus": 0.6, "chorus": 0.8, "hook": 0.8,
    "bridge": 0.55, "breakdown": 0.35, "build": 0.65, "buildup": 0.65, "drop": 0.95, "solo": 0.75,
    "interlude": 0.4, "outro": 0.3, "coda": 0.3, "refrain": 0.75, "head": 0.6,
}  # fmt: skip
_SECTION_WEIGHT = {
    "intro": 0.6,
    "outro": 0.6,
    "coda": 0.5,
    "interlude": 0.6,
    "build": 0.6,
    "buildup": 0.6,
}
_MINOR_FAMILY = {"minor", "harmonic minor", "melodic minor"}


def _stable_index(text: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % max(1, n)


def _genre(kb: KnowledgeBase, params: MusicalParameters) -> Genre:
    for name in (params.sub_genre, params.genre):
        if name and (genre := kb.find_genre(name)) is not None:
            return genre
    pop = kb.find_genre("pop")
    if pop is None:  # pragma: no cover
        raise LookupError("the knowledge base has no 'pop' genre")
    return pop


def _template(kb: KnowledgeBase, params: MusicalParameters, genre: Genre) -> Structure:
    if params.duration_seconds < SHORT_PIECE_S:
        short = [s for s in kb.structures.values() if len(s.sections) <= 2]
        if short:
            return min(short, key=lambda s: len(s.sections))
    found = kb.find_structure(params.structure)
    if found is not None:
        return found
    for sid in genre.structures:
        if sid in kb.structures:
            return kb.structures[sid]
    return next(iter(kb.structures.values()))


def _sections_from_names(names: list[str]) -> list[PlanSection]:
    weights = [_SECTION_WEIGHT.get(n, 1.0) for n in names]
    total = sum(weights)
    counts: dict[str, int] = {}
    sections = []
    for name, weight in zip(names, weights, strict=True):
        counts[name] = counts.get(name, 0) + 1
        label = name if names.count(name) == 1 else f"{name} {counts[name]}"
        sections.append(
            PlanSection(
                name=label,
                duration_ratio=weight / total,
                energy_level=_SECTION_ENERGY.get(name, 0.6),
                description=f"{name} as requested",
            )
        )
    return sections


def _developed(sections: list[PlanSection], duration_s: float) -> list[PlanSection]:
    """The sections of a long piece: its body repeated until no section passes
    LONG_SECTION_S, the opening and the ending (intro, outro) played once, each repeat a
    little more intense than the one before, and repeated names numbered ("chorus 3")."""
    if len(sections) < 3:
        return sections
    head, body, tail = sections[0], sections[1:-1], sections[-1]
    edges = head.duration_ratio + tail.duration_ratio
    longest, whole = max(s.duration_ratio for s in body), sum(s.duration_ratio for s in body)
    copies = 1
    while copies < _MAX_COPIES and longest * duration_s / (edges + copies * whole) > LONG_SECTION_S:
        copies += 1
    if copies == 1:
        return sections
    lift = 0.1 / copies
    played = [head]
    for copy in range(copies):
        played += [
            s.model_copy(update={"energy_level": min(1.0, s.energy_level + lift * copy)})
            for s in body
        ]
    played.append(tail)
    total = sum(s.duration_ratio for s in played)
    counts: dict[str, int] = {}
    out = []
    for section in played:
        match = _NUMBERED.match(section.name)
        base = match.group("base") if match else section.name
        counts[base] = counts.get(base, 0) + 1
        name = base if counts[base] == 1 else f"{base} {counts[base]}"
        out.append(
            section.model_copy(
                update={"name": name, "duration_ratio": section.duration_ratio / total}
            )
        )
    return out


def _scaled_energy(energy: float, level: float) -> float:
    """Shape the template's energy by the piece's overall energy (0.5 leaves it as written)."""
    return round(min(1.0, max(0.05, energy * (0.55 + 0.9 * level))), 3)


def _transitions(sections: list[PlanSection]) -> list[Transition]:
    out = []
    for a, b in itertools.pairwise(sections):
        rise = b.energy_level - a.energy_level
        kind = (
            "drop"
            if rise > 0.35
            else "build"
            if rise > 0.1
            else "breakdown"
            if rise < -0.25
            else "fill"
        )
        out.append(Transition(**{"from": a.name, "to": b.name, "type": kind}))
    return out


def _progression(kb: KnowledgeBase, params: MusicalParameters, genre: Genre) -> list[str]:
    if params.chord_progression:
        return list(params.chord_progression)
    _tonic, mode = split_key(params.key)

    def fits(prog_mode: str) -> bool:
        return prog_mode == mode or (mode in _MINOR_FAMILY and prog_mode in _MINOR_FAMILY)

    candidates = [
        kb.progressions[p]
        for p in genre.progressions
        if p in kb.progressions and fits(kb.progressions[p].mode)
    ]
    if not candidates:
        # None of the genre's own in this mode: one written for the genre or its family
        # (a pop ballad in D minor takes pop's minor loop, not a jazz ii-V-i), else any.
        family = {genre.id, *kb.genre_ancestors(genre.id)}
        fitting = [p for p in kb.progressions.values() if fits(p.mode)]
        candidates = [p for p in fitting if family & set(p.genres)] or fitting
    if not candidates:
        return [tonic_chord(params.key)]
    mood_match = [p for p in candidates if set(p.moods) & set(params.mood)]
    pool = mood_match or candidates
    chosen = pool[
        _stable_index(f"{genre.id}|{'/'.join(params.mood)}|{params.key}", min(len(pool), 3))
    ]
    return [numeral_to_chord(n, params.key, relative_to="major") for n in chosen.numerals]


def plan_rules(params: MusicalParameters) -> StructuralPlan:
    kb = load_knowledge()
    genre = _genre(kb, params)
    if params.section_names:
        sections = _sections_from_names(params.section_names)
        structure_type = "-".join(params.section_names)
    else:
        template = _template(kb, params, genre)
        structure_type = template.name
        total = sum(s.ratio for s in template.sections)
        sections = [
            PlanSection(
                name=s.name,
                duration_ratio=s.ratio / total,
                energy_level=s.energy,
                description=s.description,
            )
            for s in template.sections
        ]
        sections = _developed(sections, params.duration_seconds)
    sections = [
        s.model_copy(update={"energy_level": _scaled_energy(s.energy_level, params.energy_level)})
        for s in sections
    ]
    # As many sections as the bars hold, each whole bars: a 15 s piece is not six sections.
    sections = in_whole_bars(sections, bars_in(params))
    tonic, mode = split_key(params.key)
    return StructuralPlan(
        structure_type=structure_type,
        sections=sections,
        transitions=_transitions(sections),
        chord_progression=ChordProgression(
            key=tonic, mode=mode, chords=_progression(kb, params, genre)
        ),
    )
