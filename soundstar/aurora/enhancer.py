"""The offline prompt enhancer (spec v2 §3.2.1, §5.2.1): keep the person's words, add what is implied.

Every addition comes from the knowledge base (the genre's tempo range, modes,
instrumentation, structures; the moods' tempo and mode tendencies; the era's
production) and carries a type, value, reasoning and confidence. What the
person stated always wins: a stated BPM, key, genre or meter is never
re-added, and nothing excluded ("no drums") is ever added. The enhanced
prompt is the person's text followed by one sentence per level of detail,
written so that the offline parser reads back exactly the values added.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from soundstar.aurora.infer import guess_genre
from soundstar.aurora.lineup import resolve_lineup
from soundstar.aurora.mapper import DEFAULT_TONIC
from soundstar.aurora.preprocess import normalize
from soundstar.aurora.rules.matcher import find_mentions
from soundstar.aurora.rules.parse import SECTION_WORDS, Reading, parse_rules
from soundstar.aurora.understood import refuse_nothing_understood
from soundstar.errors import ParameterError
from soundstar.keys import key_of_chords
from soundstar.knowledge import Genre, KnowledgeBase, load_knowledge
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    Enhancement,
    EnhancementAddition,
    InstrumentMention,
    Provenance,
)

LEVELS = ("minimal", "moderate", "aggressive")
STATED_GENRE_CONFIDENCE = 0.9
"""parse_rules gives a named genre 0.9; anything lower was inferred (artist, era, default)."""
_TEMPO_TERM_CONFIDENCE = 0.75
_TRAILING = re.compile(r"[\s,;:.!?-]+$")


@dataclass(frozen=True)
class LevelRules:
    """What one enhancement level may add."""

    fields: frozenset[str]
    instruments: int
    max_additions: int


# minimal fills only a missing genre and tempo (a genre hint counts; mood and duration hints
# wait for moderate); moderate adds key, mood, 2–3 instruments and the duration hint;
# aggressive adds a sub-genre, more instruments, structure, meter, era and production.
LEVEL_RULES: dict[str, LevelRules] = {
    "minimal": LevelRules(frozenset({"genre", "tempo"}), instruments=0, max_additions=2),
    "moderate": LevelRules(
        frozenset({"genre", "tempo", "key", "mood", "instrumentation", "duration"}),
        instruments=3,
        max_additions=10,
    ),
    "aggressive": LevelRules(
        frozenset(
            {
                "genre",
                "sub_genre",
                "tempo",
                "key",
                "mood",
                "instrumentation",
                "duration",
                "structure",
                "time_signature",
                "era",
                "production",
            }
        ),
        instruments=5,
        max_additions=20,
    ),
}


def check_level(level: str) -> str:
    if level not in LEVEL_RULES:
        raise ParameterError(
            f"enhancement level must be one of {', '.join(LEVELS)}, got {level!r}",
            field="enhancement_level",
        )
    return level


@lru_cache(maxsize=64)
def _structure_forms(structure_id: str) -> tuple[str, ...]:
    """The ways to write a structure that the parser reads back as that structure."""
    kb = load_knowledge()
    record = kb.structures[structure_id]
    forms = [structure_id.replace("_", " "), record.name.lower(), *record.aliases]
    good = []
    for form in forms:
        found = kb.find_structure(form)
        if found and found.id == structure_id and form not in good:
            good.append(form)
    return tuple(good) or (forms[0],)


def structure_surface(structure_id: str, text: str = "") -> str:
    """The plainest form of a structure that, with `text`, stays under three section words
    (three section words and a comma read as a section list)."""
    already = len(SECTION_WORDS.findall(normalize(text)))
    forms = _structure_forms(structure_id)
    return next((f for f in forms if already + len(SECTION_WORDS.findall(f)) < 3), forms[0])


@lru_cache(maxsize=256)
def instrument_surface(instrument_id: str) -> str | None:
    """The instrument's name, or the first alias, that the parser reads back as that instrument
    and nothing else ("Breakbeat" is also a genre); None when there is no such form."""
    kb = load_knowledge()
    inst = kb.instruments[instrument_id]
    for form in (inst.name, instrument_id.replace("_", " "), *inst.aliases):
        mentions = find_mentions(normalize(form))
        if [(m.table, m.id) for m in mentions] == [("instruments", instrument_id)]:
            return form
    return None


def _mentions_nothing(text: str) -> bool:
    """True for a phrase that names no knowledge-base term or section (safe to add as prose)."""
    words = normalize(text)
    return not find_mentions(words) and not SECTION_WORDS.search(words)


@dataclass
class _Draft:
    """The additions collected so far and the sentence parts that express them."""

    additions: list[EnhancementAddition]
    genre: Genre
    text: str

    def add(self, type_: str, value: str, reasoning: str, confidence: float) -> None:
        self.additions.append(
            EnhancementAddition(
                type=type_, value=value, reasoning=reasoning, confidence=round(confidence, 3)
            )
        )

    def value(self, type_: str) -> str | None:
        return next((a.value for a in self.additions if a.type == type_), None)

    def values(self, type_: str) -> list[str]:
        return [a.value for a in self.additions if a.type == type_]


def _context_str(context: dict[str, object] | None, key: str) -> str | None:
    value = (context or {}).get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _choose_genre(
    kb: KnowledgeBase, reading: Reading, context: dict[str, object] | None, draft: _Draft
) -> None:
    parsed = reading.parsed
    stated = parsed.genre.confidence >= STATED_GENRE_CONFIDENCE
    if stated:
        return
    hint = _context_str(context, "genre_hint")
    hinted = kb.find_genre(hint) if hint else None
    if hinted is not None:
        draft.genre = hinted
        draft.add("genre", hinted.name, f"genre hint from the context ({hint})", 0.9)
        return
    if reading.artist_names and reading.genre_id:
        genre = kb.genres[reading.sub_genre_id or reading.genre_id]
        draft.genre = genre
        draft.add("genre", genre.name, f"implied by {reading.artist_names[0]}", 0.75)
        return
    implied = next(
        (e for e in (kb.named_ensembles[i] for i in reading.ensemble_ids) if e.genre in kb.genres),
        None,
    )
    if implied is not None and implied.genre is not None:  # "a brass quintet": chamber music
        draft.genre = kb.genres[implied.genre]
        draft.add("genre", draft.genre.name, f"implied by a {implied.name.lower()}", 0.75)
        return
    guess = guess_genre([i[0] for i in reading.instrument_ids], reading.mood_ids, kb=kb)
    if guess is not None:
        draft.genre = guess.genre
        draft.add("genre", guess.genre.name, guess.reasoning, guess.confidence)
        return
    if reading.era_id and reading.genre_id:
        genre = kb.genres[reading.genre_id]
        draft.genre = genre
        draft.add("genre", genre.name, f"typical of the {reading.era_id}", 0.5)


def _choose_sub_genre(kb: KnowledgeBase, reading: Reading, draft: _Draft) -> None:
    """A stated top-level genre narrowed to the sub-genre the moods and instruments fit best."""
    if reading.sub_genre_id or draft.value("genre") or reading.genre_id is None:
        return
    children = set(kb.genre_children(reading.genre_id))
    guess = guess_genre([i[0] for i in reading.instrument_ids], reading.mood_ids, kb=kb)
    if guess is not None and guess.genre.id in children:
        draft.genre = guess.genre
        draft.add("sub_genre", guess.genre.name, guess.reasoning, guess.confidence - 0.1)


def _choose_tempo(kb: KnowledgeBase, reading: Reading, draft: _Draft) -> None:
    parsed = reading.parsed
    if parsed.tempo.type == "explicit":
        return
    genre = draft.genre
    lo, hi = genre.bpm
    moods = [kb.moods[m] for m in reading.mood_ids if m in kb.moods]
    if parsed.tempo.confidence == _TEMPO_TERM_CONFIDENCE:
        bpm = parsed.tempo.bpm
        reasoning = "the tempo word asked for, as BPM"
        confidence = 0.75
    else:
        bias = sum(m.tempo_bias for m in moods) / len(moods) if moods else 0.0
        bpm = min(max(genre.default_bpm + bias * (hi - lo) / 2, lo), hi)
        reasoning = f"typical of {genre.name} ({lo}–{hi} BPM)"
        if moods and bias:
            reasoning += (
                f", {'faster' if bias > 0 else 'slower'} for {', '.join(m.id for m in moods)}"
            )
        confidence = 0.7
        artists = [a for a in (kb.find_artist(n) for n in reading.artist_names) if a]
        if artists:
            a_lo, a_hi = artists[0].bpm
            bpm = min(max(bpm, a_lo), a_hi)
            reasoning += f", within {artists[0].name}'s range"
    if reading.tempo_multiplier:
        bpm *= reading.tempo_multiplier
        reasoning += f", times {reading.tempo_multiplier:g} for the feel asked"
    if reading.tempo_cap is not None and bpm > reading.tempo_cap:
        bpm = reading.tempo_cap
        reasoning += ", capped: not too fast was asked"
    bpm = round(min(max(bpm, TEMPO_MIN_BPM), TEMPO_MAX_BPM))
    draft.add("tempo", f"{bpm} BPM", reasoning, confidence)


def _choose_key(kb: KnowledgeBase, reading: Reading, draft: _Draft) -> None:
    if reading.parsed.key_signature.value:
        return
    genre = draft.genre
    moods = [kb.moods[m] for m in reading.mood_ids if m in kb.moods]
    biases = Counter(m.mode_bias for m in moods if m.mode_bias)
    if reading.mode_hint:
        mode, why = reading.mode_hint, "the mode asked for"
    elif biases:
        mode = biases.most_common(1)[0][0]
        why = f"{mode} suits {', '.join(m.id for m in moods if m.mode_bias == mode)}"
    else:
        mode, why = genre.modes[0], f"the usual mode of {genre.name}"
    chords = reading.parsed.chord_progression
    if chords and not reading.tonic_hint:
        prefer = mode if reading.mode_hint or biases else None
        home = key_of_chords(chords, prefer, mode_stated=bool(reading.mode_hint))
        if home is not None:
            draft.add("key", home, f"the key {' '.join(chords)} is in", 0.7)
            return
    tonic = reading.tonic_hint or next(
        (k.split(" ", 1)[0] for k in genre.keys if k.split(" ", 1)[1] == mode),
        DEFAULT_TONIC.get(mode, "C"),
    )
    draft.add("key", f"{tonic} {mode}", why, 0.55 if not reading.mode_hint else 0.7)


def _choose_mood(
    kb: KnowledgeBase, reading: Reading, context: dict[str, object] | None, draft: _Draft
) -> None:
    excluded = set(reading.parsed.exclusions.moods)
    stated = set(reading.mood_ids)
    opposed = {o for m in stated if m in kb.moods for o in kb.moods[m].opposites}
    hint = _context_str(context, "mood_hint")
    hinted = kb.find_mood(hint) if hint else None
    if hinted and hinted.id not in stated | excluded | opposed:
        draft.add("mood", hinted.id.replace("_", " "), f"mood hint from the context ({hint})", 0.85)
        return
    if stated:
        return
    energy = reading.parsed.energy_level
    for mood_id in draft.genre.moods:
        mood = kb.moods.get(mood_id)
        if mood is None or mood.id in excluded:
            continue
        if energy.confidence >= 0.8 and abs(mood.arousal - energy.value) > 0.35:
            continue  # an energy word was stated; a mood must not pull against it
        draft.add("mood", mood.id.replace("_", " "), f"a typical mood of {draft.genre.name}", 0.5)
        return


def _choose_instruments(kb: KnowledgeBase, reading: Reading, draft: _Draft, limit: int) -> None:
    """Up to `limit` instruments the style adds to what was named, by the one lineup rule
    (`resolve_lineup`): nothing left out, no voice, room only up to a stated ensemble size."""
    if limit <= 0:
        return
    named = [
        InstrumentMention(name=iid, role=role, confidence=0.9, descriptor=descriptor)
        for iid, role, descriptor in reading.instrument_ids
    ]
    lineup = resolve_lineup(
        named,
        draft.genre,
        reading.parsed.exclusions,
        ensemble_size=reading.ensemble_size,
        limit=limit,
        usable=lambda inst: instrument_surface(inst.id) is not None,
        kb=kb,
    )
    for spec in lineup.instruments:
        if spec.provenance is Provenance.STATED:
            continue
        inst = kb.instruments[spec.name]
        draft.add(
            "instrumentation",
            instrument_surface(inst.id) or inst.name,
            f"{draft.genre.name} usually has {inst.name.lower()} on {spec.role.value}",
            0.6,
        )


def _choose_duration(reading: Reading, context: dict[str, object] | None, draft: _Draft) -> None:
    hint = (context or {}).get("duration_hint")
    if reading.parsed.duration_seconds is not None or isinstance(hint, bool):
        return
    if isinstance(hint, int | float) and DURATION_MIN_S <= hint <= DURATION_MAX_S:
        draft.add("duration", f"{hint:g} seconds", "duration hint from the context", 0.9)


def _choose_arrangement(kb: KnowledgeBase, reading: Reading, draft: _Draft) -> None:
    parsed = reading.parsed
    genre = draft.genre
    if reading.structure_id is None and not parsed.section_names and genre.structures:
        structure = structure_surface(genre.structures[0], draft.text)
        draft.add("structure", structure, f"a common form for {genre.name}", 0.5)
    if parsed.time_signature.confidence < 0.9:
        draft.add("time_signature", genre.meters[0], f"the usual meter of {genre.name}", 0.6)
    era_id = reading.era_id or genre.era
    if era_id is None or era_id not in kb.eras:
        return
    if reading.era_id is None:
        draft.add("era", era_id, f"{genre.name} belongs to the {era_id}", 0.45)
    notes = [p for p in kb.eras[era_id].production if _mentions_nothing(p)][:2]
    for note in notes:
        draft.add("production", note, f"a production trait of the {era_id}", 0.45)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _render(base: str, draft: _Draft) -> str:
    """The person's text, then the additions as sentences the parser reads back."""
    genre = draft.value("sub_genre") or draft.value("genre")
    tempo = draft.value("tempo")
    key = draft.value("key")
    mood = draft.value("mood")
    instruments = draft.values("instrumentation")
    first: list[str] = []
    if genre:
        first.append(genre)
    if mood:
        first.append(f"{mood} feel")
    tail = ""
    if tempo:
        tail += f"at {tempo}"
    if key:
        tail += f"{' ' if tail else ''}in the key of {key}"
    if tail:
        first.append(tail)
    sentences: list[str] = []
    if first or instruments:
        sentence = ", ".join(first)
        if instruments:
            sentence += f"{', ' if sentence else ''}with {_join(instruments)}"
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    structure, meter = draft.value("structure"), draft.value("time_signature")
    if structure or meter:
        parts = ([f"arranged as {structure}"] if structure else []) + (
            [f"in {meter} time"] if meter else []
        )
        text = " ".join(parts)
        sentences.append(text[0].upper() + text[1:] + ".")
    era, production = draft.value("era"), draft.values("production")
    if era or production:
        text = f"{era} sound" if era else "Production"
        if production:
            text += f" with {_join(production)}"
        sentences.append(text[0].upper() + text[1:] + ".")
    duration = draft.value("duration")
    if duration:
        sentences.append(f"Lasting {duration}.")
    if not sentences:
        return base
    return f"{base}. " + " ".join(sentences)


def _base(text: str, original: str | None) -> str:
    """The person's own words, in their casing, without trailing punctuation."""
    words = " ".join(original.split()) if original and original.strip() else text
    return _TRAILING.sub("", words) or words


def enhance_rules(
    text: str,
    *,
    level: str = "moderate",
    context: dict[str, object] | None = None,
    original: str | None = None,
) -> Enhancement:
    """Enhance a preprocessed prompt; `original` is the person's text (with any spelling
    corrections applied), which opens the enhanced prompt verbatim."""
    rules = LEVEL_RULES[check_level(level)]
    kb = load_knowledge()
    reading = parse_rules(text, original=original)
    if not reading.understood:
        raise refuse_nothing_understood()
    default = kb.find_genre(reading.parsed.sub_genre.value or "") or kb.find_genre(
        reading.parsed.genre.value
    )
    if default is None:  # pragma: no cover - parse_rules always names a known genre
        raise LookupError(f"unknown genre {reading.parsed.genre.value!r}")
    draft = _Draft([], default, text)
    _choose_genre(kb, reading, context, draft)
    if "sub_genre" in rules.fields:
        _choose_sub_genre(kb, reading, draft)
    _choose_tempo(kb, reading, draft)
    if "key" in rules.fields:
        _choose_key(kb, reading, draft)
    if "mood" in rules.fields:
        _choose_mood(kb, reading, context, draft)
    _choose_instruments(kb, reading, draft, rules.instruments)
    if "duration" in rules.fields:
        _choose_duration(reading, context, draft)
    if "structure" in rules.fields:
        _choose_arrangement(kb, reading, draft)
    draft.additions = [a for a in draft.additions if a.type in rules.fields][: rules.max_additions]
    confidences = [a.confidence for a in draft.additions]
    return Enhancement(
        original_prompt=original if original is not None else text,
        enhanced_prompt=_render(_base(text, original), draft),
        additions=draft.additions,
        confidence=round(sum(confidences) / len(confidences), 3) if confidences else 0.9,
    )
