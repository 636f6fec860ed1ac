"""The loaded knowledge base: typed tables plus lookups by id, name or alias."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from soundstar.knowledge.records import (
    Articulation,
    Artist,
    BassGroove,
    DrumGroove,
    Ensemble,
    Era,
    GenericInstrument,
    Genre,
    Instrument,
    Mood,
    NamedEnsemble,
    Progression,
    Structure,
    TempoTerm,
)
from soundstar.knowledge.vocab import CompingName

_SEPARATORS = re.compile(r"[-_\s]+")
_COMPACT_DROP = re.compile(r"[\s'.]")

VOCABULARY_TABLES: tuple[str, ...] = (
    "genres",
    "instruments",
    "named_ensembles",
    "moods",
    "artists",
    "eras",
    "structures",
    "progressions",
    "tempo_terms",
)
"""Tables whose names and aliases count as music vocabulary, first table first on a tie."""

Ref = tuple[str, str]


def normalize(text: str) -> str:
    """Lowercase, curly quotes straight, hyphens/underscores as spaces, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return _SEPARATORS.sub(" ", text).strip()


def compact(text: str) -> str:
    """The normalized form without spaces, apostrophes or dots: "lo fi" and "lofi" meet."""
    return _COMPACT_DROP.sub("", normalize(text))


def surface_forms(record_id: str, name: str | None, aliases: Iterable[str]) -> list[str]:
    """Every lowercase way a record is written: its id (underscores as spaces), name, aliases."""
    forms = [record_id.replace("_", " ").lower()]
    if name:
        forms.append(name.lower())
    forms.extend(aliases)
    seen: dict[str, None] = {}
    for form in forms:
        seen.setdefault(form.strip(), None)
    return [f for f in seen if f]


@dataclass(frozen=True)
class Index:
    """One table's lookup: normalized surface -> id, with a spacing-insensitive second chance."""

    exact: Mapping[str, str]
    loose: Mapping[str, str]

    @classmethod
    def build(cls, surfaces: Mapping[str, Iterable[str]]) -> Index:
        exact: dict[str, str] = {}
        loose: dict[str, str | None] = {}
        for record_id, forms in surfaces.items():
            for form in forms:
                exact.setdefault(normalize(form), record_id)
                key = compact(form)
                if loose.get(key, record_id) != record_id:
                    loose[key] = None
                else:
                    loose[key] = record_id
        return cls(exact, {k: v for k, v in loose.items() if v is not None})

    def find(self, text: str) -> str | None:
        key = normalize(text)
        if key in self.exact:
            return self.exact[key]
        if key.startswith("the "):
            found = self.exact.get(key[4:])
            if found is not None:
                return found
        return self.loose.get(compact(text))


class Playing(NamedTuple):
    """What a descriptor asks of a part: a comping style, a bass groove, an octave shift."""

    style: CompingName | None
    bass_groove: str | None
    octave: int


@dataclass(frozen=True)
class KnowledgeBase:
    """Every table of the knowledge base, validated and cross-checked, with lookups."""

    genres: dict[str, Genre]
    moods: dict[str, Mood]
    instruments: dict[str, Instrument]
    eras: dict[str, Era]
    artists: list[Artist]
    tempo_terms: list[TempoTerm]
    abbreviations: dict[str, str]
    progressions: dict[str, Progression]
    structures: dict[str, Structure]
    drum_grooves: dict[str, DrumGroove]
    bass_grooves: dict[str, BassGroove]
    articulations: dict[str, Articulation]
    ensembles: dict[str, Ensemble]
    named_ensembles: dict[str, NamedEnsemble]
    generic_instruments: dict[str, GenericInstrument]
    """Generic instrument words ("bass", "drums") by normalized word."""
    mood_words: dict[str, str]
    """Lexicon words -> the mood each reads as, the nearest on the valence/arousal plane."""
    playing_nouns: tuple[str, ...]
    """What an instrument plays in a production ("stabs"): after an instrument's name they
    name that instrument ("piano stabs"), not an instrument of their own."""
    _surfaces: dict[str, dict[str, list[str]]] = field(repr=False)
    _indexes: dict[str, Index] = field(repr=False)

    @classmethod
    def assemble(cls, **tables: object) -> KnowledgeBase:
        """Build the lookups once from already-validated tables."""
        kb = cls(**tables, _surfaces={}, _indexes={})  # type: ignore[arg-type]
        surfaces = kb._surfaces
        surfaces["genres"] = {
            g.id: surface_forms(g.id, g.name, g.aliases) for g in kb.genres.values()
        }
        surfaces["moods"] = {m.id: surface_forms(m.id, None, m.aliases) for m in kb.moods.values()}
        surfaces["instruments"] = {
            i.id: surface_forms(i.id, i.name, i.aliases) for i in kb.instruments.values()
        }
        surfaces["named_ensembles"] = {
            e.id: surface_forms(e.id, e.name, e.aliases) for e in kb.named_ensembles.values()
        }
        surfaces["eras"] = {e.id: surface_forms(e.id, None, e.aliases) for e in kb.eras.values()}
        surfaces["artists"] = {a.name: surface_forms(a.name, a.name, a.aliases) for a in kb.artists}
        surfaces["structures"] = {
            s.id: surface_forms(s.id, s.name, s.aliases) for s in kb.structures.values()
        }
        surfaces["progressions"] = {
            p.id: surface_forms(p.id, p.name, p.aliases) for p in kb.progressions.values()
        }
        surfaces["tempo_terms"] = {t.term: [t.term] for t in kb.tempo_terms}
        for word, mood_id in kb.mood_words.items():
            surfaces["moods"][mood_id].append(word)
        for table, forms in surfaces.items():
            kb._indexes[table] = Index.build(forms)
        return kb

    def _find(self, table: str, text: str) -> str | None:
        return self._indexes[table].find(text) if text and text.strip() else None

    def find_genre(self, text: str) -> Genre | None:
        """A genre by id, name or alias, case-, hyphen- and spacing-insensitive."""
        found = self._find("genres", text)
        return self.genres[found] if found else None

    def find_mood(self, text: str) -> Mood | None:
        found = self._find("moods", text)
        return self.moods[found] if found else None

    def find_instrument(self, text: str) -> Instrument | None:
        """An instrument by id, name or alias; a name followed by a playing noun ("piano
        stabs", "string swells") is that instrument."""
        found = self._find("instruments", text)
        if found is None:
            name, _, noun = normalize(text).rpartition(" ")
            if name and noun in self.playing_nouns:
                found = self._find("instruments", name)
        return self.instruments[found] if found else None

    def playing_noun(self, word: str) -> bool:
        """Whether a word names what an instrument plays in a production ("stabs", "chops")."""
        return word in self.playing_nouns

    def find_ensemble(self, text: str) -> NamedEnsemble | None:
        """A named ensemble ("string quartet") by id, name or alias."""
        found = self._find("named_ensembles", text)
        return self.named_ensembles[found] if found else None

    def generic_instrument(self, word: str) -> GenericInstrument | None:
        """The generic-instrument entry when `word` names an instrument in general ("bass",
        "drums"); None for a specific name ("electric bass") or an unknown word."""
        return self.generic_instruments.get(normalize(word)) if word else None

    def variants(self, instrument_id: str) -> list[str]:
        """Instruments that are a kind of this one (`variant_of` it), in file order."""
        return [i.id for i in self.instruments.values() if i.variant_of == instrument_id]

    def kinds(self, generic: GenericInstrument) -> list[str]:
        """Every instrument a generic word may stand for: its instrument, the listed kinds,
        and the variants of each."""
        out: dict[str, None] = {}
        for base in (generic.instrument, *generic.kinds):
            out.setdefault(base, None)
            for variant in self.variants(base):
                out.setdefault(variant, None)
        return list(out)

    def find_era(self, text: str) -> Era | None:
        found = self._find("eras", text)
        return self.eras[found] if found else None

    def find_artist(self, text: str) -> Artist | None:
        found = self._find("artists", text)
        return next((a for a in self.artists if a.name == found), None) if found else None

    def find_structure(self, text: str) -> Structure | None:
        found = self._find("structures", text)
        return self.structures[found] if found else None

    def find_progression(self, text: str) -> Progression | None:
        found = self._find("progressions", text)
        return self.progressions[found] if found else None

    def find_tempo_term(self, text: str) -> TempoTerm | None:
        found = self._find("tempo_terms", text)
        return next((t for t in self.tempo_terms if t.term == found), None) if found else None

    def articulation(self, descriptor: str | None) -> Playing:
        """How a descriptor's words ask an instrument to play ("pulsing low" -> pulse,
        root eighths in the bass, an octave down); all None/0 when it names nothing."""
        style: CompingName | None = None
        bass_groove: str | None = None
        octave = 0
        for word in (descriptor or "").lower().split():
            found = self.articulations.get(word)
            if found is not None:
                style = found.style or style
                bass_groove = found.bass_groove or bass_groove
                octave = found.octave or octave
        return Playing(style, bass_groove, octave)

    def genre_ancestors(self, genre_id: str) -> list[str]:
        """Parent, grandparent, ... up to the root; empty for a root or an unknown id."""
        chain: list[str] = []
        genre = self.genres.get(genre_id)
        while genre is not None and genre.parent is not None:
            chain.append(genre.parent)
            genre = self.genres.get(genre.parent)
        return chain

    def genre_children(self, genre_id: str) -> list[str]:
        """Direct sub-genres of a genre."""
        return [g.id for g in self.genres.values() if g.parent == genre_id]

    def vocabulary_all(self) -> dict[str, tuple[Ref, ...]]:
        """Every lowercase surface form -> every (table, id) it names, tables in priority order."""
        out: dict[str, list[Ref]] = {}
        for table in VOCABULARY_TABLES:
            for record_id, forms in self._surfaces[table].items():
                for form in forms:
                    refs = out.setdefault(form, [])
                    if (table, record_id) not in refs:
                        refs.append((table, record_id))
        return {surface: tuple(refs) for surface, refs in out.items()}

    def vocabulary(self) -> dict[str, Ref]:
        """Every lowercase surface form -> the one (table, id) it names first (genres first)."""
        return {surface: refs[0] for surface, refs in self.vocabulary_all().items()}

    def genre_vocabulary(self) -> dict[str, Ref]:
        """Genre surface forms only -> ("genres", id)."""
        return {
            form: ("genres", genre_id)
            for genre_id, forms in self._surfaces["genres"].items()
            for form in forms
        }
