"""Guessing what a prompt implies from what it names (shared by the enhancer and suggester).

A genre that is not named can still be implied: by an artist, or by moods and
instruments that a genre's knowledge-base profile lists. The scores here are
simple overlaps, deterministic and fast enough to run on every keystroke.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from soundstar.knowledge import Genre, Instrument, KnowledgeBase, NamedEnsemble, load_knowledge

INSTRUMENT_WEIGHT = 2.0
MOOD_WEIGHT = 1.0
MIN_SCORE = 2.0
"""An implied genre needs at least one shared instrument or two shared moods."""


@dataclass(frozen=True)
class GenreGuess:
    genre: Genre
    confidence: float
    reasoning: str


@lru_cache(maxsize=1)
def _profiles() -> tuple[tuple[str, frozenset[str], frozenset[str]], ...]:
    """(genre id, instrument ids, mood ids) for every genre, in knowledge-base order."""
    kb = load_knowledge()
    return tuple(
        (
            g.id,
            frozenset(i for names in g.instrumentation.values() for i in names),
            frozenset(g.moods),
        )
        for g in kb.genres.values()
    )


def guess_genre(
    instrument_ids: Iterable[str], mood_ids: Iterable[str], *, kb: KnowledgeBase | None = None
) -> GenreGuess | None:
    """The genre whose instrumentation and moods overlap the named ones most, or None."""
    kb = kb or load_knowledge()
    instruments = frozenset(instrument_ids)
    moods = frozenset(mood_ids)
    if not instruments and not moods:
        return None
    best: tuple[float, float, str] | None = None
    for genre_id, g_inst, g_moods in _profiles():
        shared_inst = len(instruments & g_inst)
        shared_moods = len(moods & g_moods)
        score = INSTRUMENT_WEIGHT * shared_inst + MOOD_WEIGHT * shared_moods
        if score < MIN_SCORE:
            continue
        focus = score / (len(g_inst) + len(g_moods))
        candidate = (score, focus, genre_id)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        return None
    genre = kb.genres[best[2]]
    named = sorted((instruments & _profile(best[2])[0]) | (moods & _profile(best[2])[1]))
    confidence = round(min(0.7, 0.4 + 0.05 * best[0]), 3)
    return GenreGuess(genre, confidence, f"{', '.join(named)} are typical of {genre.name}")


def _profile(genre_id: str) -> tuple[frozenset[str], frozenset[str]]:
    for gid, inst, moods in _profiles():
        if gid == genre_id:
            return inst, moods
    return frozenset(), frozenset()


def players(kb: KnowledgeBase, instrument_ids: Iterable[str]) -> int:
    """Players a lineup makes, as an ensemble word counts them: one per entry (two violins
    are two), one drummer for all the kit pieces ("piano, hi-hats and a kick drum" is two)."""
    ids = list(instrument_ids)
    drums = [iid for iid in ids if iid in kb.instruments and kb.instruments[iid].drum]
    return len(ids) - len(drums) + bool(drums)


def genre_kind(
    kb: KnowledgeBase,
    word: str,
    style: Genre | None,
    *,
    taken: Container[str] = (),
) -> Instrument | None:
    """The instrument a generic word ("bass", "drums") stands for in a style; None when the
    word is not generic (a specific name such as "electric bass" means what it says).

    The word's kinds (knowledge `generic_instruments`) are looked for in the style's
    instrumentation, the instrument's own role first, then the style's roles in order; the
    first listed and not `taken` is played ("a jazz trio with bass and drums": double bass,
    jazz kit). Where the style lists the plain instrument itself, has no kind of it, or no
    style is known, the word reads as the plain instrument. The parser and the mapper both
    use this, so a prompt read offline and an LLM's answer resolve alike.
    """
    generic = kb.generic_instrument(word)
    if generic is None:
        return None
    plain = kb.instruments[generic.instrument]
    if style is None:
        return plain
    lineup = {str(role): ids for role, ids in style.instrumentation.items()}
    if any(plain.id in ids for ids in lineup.values()):
        return plain
    kinds = set(kb.kinds(generic))
    for role in sorted(lineup, key=lambda r: r != plain.role):
        for iid in lineup[role]:
            if iid in kinds and iid not in taken:
                return kb.instruments[iid]
    return plain


def refers_back(kb: KnowledgeBase, word: str, named: Iterable[str]) -> str | None:
    """The instrument already `named` that a generic word stands for again: "the bass" after
    "an upright bass", "singing" after "a male vocalist". None when the word is not generic
    or none of its kinds is named (it then names a new instrument: `genre_kind`)."""
    generic = kb.generic_instrument(word)
    if generic is None:
        return None
    kinds = set(kb.kinds(generic))
    return next((iid for iid in named if iid in kinds), None)


def placed_by_word(kb: KnowledgeBase, instrument_id: str, by_word: Mapping[str, str]) -> str | None:
    """Of the instruments generic words placed in a lineup (id: the word), the one that
    `instrument_id` is a kind of: "a singer ... female vocals" names the singer's kind."""
    return next(
        (iid for iid, word in by_word.items() if refers_back(kb, word, [instrument_id])), None
    )


def ensemble_is_the_band(
    kb: KnowledgeBase, ensembles: Iterable[NamedEnsemble], style: Genre | None
) -> bool:
    """Whether a named ensemble is the whole lineup: so with no style named, or the
    ensemble's own ("a classical string quartet"); in another style it joins that style's
    band ("lo-fi hip hop with a string quartet" keeps its drums and bass)."""
    ensembles = list(ensembles)
    if not ensembles:
        return False
    if style is None:
        return True
    own = {e.genre for e in ensembles}
    return bool(own & ({style.id} | set(kb.genre_ancestors(style.id)))) or any(
        style.id in kb.genre_ancestors(g) for g in own if g in kb.genres
    )
