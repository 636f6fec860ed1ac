"""The offline suggester (spec v1 §3.2.2): completions, additions and replacements per keystroke.

A sorted index of every genre, mood, instrument and tempo word (names and
aliases, hyphens as spaces) is built once; finishing the word at the cursor is
a binary search for its prefix, ranked by how common the term is in the
knowledge base and how well it fits the genre the prompt implies. Additions
fill what the prompt still lacks (a genre, a tempo, an instrument, a mood);
replacements fix a misspelt music word ("synthwav" → "synthwave").
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from soundstar.aurora.infer import guess_genre
from soundstar.aurora.lineup import resolve_lineup
from soundstar.aurora.rules.parse import Reading, parse_rules
from soundstar.aurora.suggestion import Suggestion
from soundstar.knowledge import Genre, KnowledgeBase, load_knowledge, normalize
from soundstar.models import InstrumentMention, Provenance

TABLE_WEIGHT = {
    "genres": 1.0,
    "instruments": 0.9,
    "named_ensembles": 0.9,
    "moods": 0.85,
    "tempo_terms": 0.6,
}
"""Tables offered as completions, and how much a match in each is worth."""
ALIAS_WEIGHT = 0.85
FIT_BONUS = 0.3
PHRASE_BONUS = 0.15
MAX_PHRASE_WORDS = 3
MIN_FUZZY_LEN = 5
FUZZY_CUTOFF = 0.85
REPLACE_LOOKBACK = 6
_WORD_CHARS = re.compile(r"[a-z0-9'&#+-]")
_WORDS = re.compile(r"[a-z0-9'&#+]+(?:-[a-z0-9'&#+]+)*")
_BREAK = re.compile(r"[.,;:!?()]")
_SCAN_LIMIT = 400
CONNECTORS = frozenset({"with", "at", "and", "plus", "featuring"})
"""A prompt ending in one of these wants what follows it, not another connector."""
FUNCTION_WORDS = CONNECTORS | frozenset({"the", "in", "of", "for", "on", "by", "to"})
"""Whole words a prompt is continued after, not finished as the prefix of a music term
('a calm piece in' wants what comes next, not 'indie'); the first word may still be one."""
PHRASE_INSTRUMENTS = 2
"""Instruments an addition names together: 'with synth bass and drum machine'."""


@dataclass(frozen=True)
class Entry:
    """One way to write one knowledge-base record."""

    key: str
    table: str
    id: str
    weight: float


@dataclass(frozen=True)
class SuggestContext:
    """What the partial prompt already says and what it implies."""

    reading: Reading
    genre: Genre | None
    genre_stated: bool
    likely_genre: str | None
    likely_mood: str | None


def _popularity(kb: KnowledgeBase) -> dict[tuple[str, str], float]:
    """How often each record is referred to across the knowledge base, log-scaled to 0–1 per table."""
    counts: dict[tuple[str, str], float] = {}

    def bump(table: str, record_id: str, amount: float = 1.0) -> None:
        counts[(table, record_id)] = counts.get((table, record_id), 0.0) + amount

    for genre in kb.genres.values():
        bump("genres", genre.id, 3.0 if genre.parent is None else 0.0)
        if genre.parent:
            bump("genres", genre.parent, 0.5)
        for names in genre.instrumentation.values():
            for name in names:
                bump("instruments", name)
        for mood in genre.moods:
            bump("moods", mood)
    for artist in kb.artists:
        for genre_id in artist.genres:
            bump("genres", genre_id)
        for mood in artist.moods:
            bump("moods", mood)
        for name in artist.instruments:
            bump("instruments", name, 0.5)
    for term in kb.tempo_terms:
        bump("tempo_terms", term.term, 1.0)
    peak: dict[str, float] = {}
    for (table, _), value in counts.items():
        peak[table] = max(peak.get(table, 0.0), math.log1p(value))
    return {
        ref: math.log1p(value) / peak[ref[0]] if peak[ref[0]] else 0.0
        for ref, value in counts.items()
    }


class SuggestIndex:
    """The prefix index and spelling candidates, built once from the knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        popularity = _popularity(kb)
        canonical: dict[tuple[str, str], str] = {}
        for genre in kb.genres.values():
            canonical[("genres", genre.id)] = normalize(genre.name)
        for inst in kb.instruments.values():
            canonical[("instruments", inst.id)] = normalize(inst.name)
        for mood in kb.moods.values():
            canonical[("moods", mood.id)] = normalize(mood.id)
        best: dict[str, Entry] = {}
        for surface, refs in kb.vocabulary_all().items():
            key = normalize(surface)
            for table, record_id in refs:
                if table not in TABLE_WEIGHT or not key:
                    continue
                weight = TABLE_WEIGHT[table] * (0.5 + 0.5 * popularity.get((table, record_id), 0.0))
                if canonical.get((table, record_id), key) != key:
                    weight *= ALIAS_WEIGHT
                entry = Entry(key, table, record_id, round(weight, 6))
                if key not in best or best[key].weight < entry.weight:
                    best[key] = entry
        self.keys: list[str] = sorted(best)
        self.entries: list[Entry] = [best[k] for k in self.keys]
        self.known_words: frozenset[str] = frozenset(w for k in self.keys for w in k.split())
        by_initial: dict[str, list[str]] = {}
        for key in self.keys:
            if " " not in key and len(key) >= MIN_FUZZY_LEN - 1 and key.isalpha():
                by_initial.setdefault(key[0], []).append(key)
        self.fuzzy: dict[str, list[str]] = by_initial

    def with_prefix(self, prefix: str) -> list[Entry]:
        """Entries whose key starts with `prefix` and is longer than it."""
        start = bisect.bisect_left(self.keys, prefix)
        out: list[Entry] = []
        for i in range(start, min(len(self.keys), start + _SCAN_LIMIT)):
            if not self.keys[i].startswith(prefix):
                break
            if len(self.keys[i]) > len(prefix):
                out.append(self.entries[i])
        return out

    def correction(self, word: str) -> tuple[str, float] | None:
        """The vocabulary word a misspelt one most likely meant, with the similarity."""
        return _correction(self, word)


@lru_cache(maxsize=4096)
def _correction(index: SuggestIndex, word: str) -> tuple[str, float] | None:
    size = len(word)
    candidates = [
        c
        for c in index.fuzzy.get(word[0], ())
        if 2 * min(len(c), size) / (len(c) + size) >= FUZZY_CUTOFF
    ]
    best: tuple[str, float] | None = None
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(None, word, candidate)
        if matcher.real_quick_ratio() < FUZZY_CUTOFF or matcher.quick_ratio() < FUZZY_CUTOFF:
            continue
        ratio = matcher.ratio()
        if ratio >= FUZZY_CUTOFF and (best is None or ratio > best[1]):
            best = (candidate, ratio)
    return best


@lru_cache(maxsize=1)
def suggest_index() -> SuggestIndex:
    """The shared index (built on first use or at warm-up)."""
    return SuggestIndex(load_knowledge())


@lru_cache(maxsize=512)
def infer_context(text: str) -> SuggestContext:
    """The genre and mood a (partial) prompt names or implies, from the offline parser."""
    kb = load_knowledge()
    reading = parse_rules(normalize(text).replace("-", " ") if text.strip() else "")
    genre_id = reading.sub_genre_id or reading.genre_id
    genre = kb.genres.get(genre_id) if genre_id else None
    stated = genre is not None and reading.parsed.genre.confidence >= 0.7
    if not stated:
        guess = guess_genre([i[0] for i in reading.instrument_ids], reading.mood_ids, kb=kb)
        genre = guess.genre if guess else None
    mood = (
        reading.mood_ids[0]
        if reading.mood_ids
        else (genre.moods[0] if genre and genre.moods else None)
    )
    return SuggestContext(
        reading=reading,
        genre=genre,
        genre_stated=stated,
        likely_genre=genre.name if genre else None,
        likely_mood=mood.replace("_", " ") if mood else None,
    )


def _lower(text: str) -> str:
    """Lowercase without changing the length (positions must stay valid)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _fit(entry: Entry, genre: Genre | None) -> float:
    if genre is None:
        return 0.0
    if entry.table == "instruments":
        return (
            FIT_BONUS if any(entry.id in names for names in genre.instrumentation.values()) else 0.0
        )
    if entry.table == "moods":
        return FIT_BONUS if entry.id in genre.moods else 0.0
    if entry.table == "genres":
        record = load_knowledge().genres.get(entry.id)
        related = record is not None and genre.id in (record.id, record.parent)
        return FIT_BONUS if related else 0.0
    return 0.0


def _completions(
    index: SuggestIndex, head: str, cursor: int, genre: Genre | None
) -> list[Suggestion]:
    """Finish the word (or the last few words) before the cursor."""
    clause = _BREAK.split(head)[-1]
    words = list(_WORDS.finditer(clause))
    if not words or not head.endswith(words[-1].group(0)):
        return []
    scored: dict[str, tuple[float, Entry]] = {}
    for size in range(min(MAX_PHRASE_WORDS, len(words)), 0, -1):
        phrase_start = words[-size].start()
        phrase = clause[phrase_start:].replace("-", " ")
        if size > 1 and "  " in phrase:
            continue
        for entry in index.with_prefix(phrase):
            remainder = entry.key[len(phrase) :]
            score = entry.weight + _fit(entry, genre) + PHRASE_BONUS * (size - 1)
            score -= 0.005 * len(remainder)
            if remainder not in scored or scored[remainder][0] < score:
                scored[remainder] = (score, entry)
    seen: set[tuple[str, str]] = set()
    out: list[Suggestion] = []
    for remainder, (score, entry) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0])):
        if (entry.table, entry.id) in seen:
            continue
        seen.add((entry.table, entry.id))
        confidence = max(0.05, min(0.95, 0.3 + 0.5 * score))
        out.append(
            Suggestion(
                text=remainder,
                type="completion",
                insert_position=cursor,
                confidence=round(confidence, 3),
            )
        )
    return out


def _replacements(index: SuggestIndex, head: str, partial_word: bool) -> list[Suggestion]:
    """Misspelt music words among the last few words (the one being typed only if finished)."""
    words = list(_WORDS.finditer(head))
    if partial_word and words:
        words = words[:-1]
    out: list[Suggestion] = []
    for match in words[-REPLACE_LOOKBACK:]:
        word = match.group(0)
        if len(word) < MIN_FUZZY_LEN or not word.isalpha() or word in index.known_words:
            continue
        found = index.correction(word)
        if found is not None:
            out.append(
                Suggestion(
                    text=found[0],
                    type="replacement",
                    insert_position=match.start(),
                    confidence=round(found[1] * 0.95, 3),
                )
            )
    return out


def _additions(ctx: SuggestContext, head: str, cursor: int) -> list[Suggestion]:
    """What the prompt still lacks, given the genre it names or implies."""
    genre = ctx.genre
    if genre is None:
        return []
    kb = load_knowledge()
    reading = ctx.reading
    lead = "" if not head or head[-1].isspace() else " "
    phrases: list[tuple[str, float]] = []
    if not ctx.genre_stated:
        phrases.append((genre.name.lower(), 0.55))
    if reading.parsed.tempo.type != "explicit" and reading.parsed.tempo.confidence < 0.75:
        phrases.append((f"at {genre.default_bpm} BPM", 0.5))
    if not reading.parsed.exclusions.only:
        named = [
            InstrumentMention(name=iid, role=role, confidence=0.9, descriptor=descriptor)
            for iid, role, descriptor in reading.instrument_ids
        ]
        lineup = resolve_lineup(
            named, genre, reading.parsed.exclusions, limit=PHRASE_INSTRUMENTS, kb=kb
        )
        names = [
            kb.instruments[spec.name].name.lower()
            for spec in lineup.instruments
            if spec.provenance is not Provenance.STATED
        ]
        if names:
            phrases.append(("with " + " and ".join(names), 0.45))
    if not reading.mood_ids and ctx.likely_mood:
        phrases.append((ctx.likely_mood, 0.4))
    words = _WORDS.findall(head)
    last = words[-1] if words else ""
    out: list[Suggestion] = []
    for phrase, conf in phrases:
        first, _, rest = phrase.partition(" ")
        if first == last and rest:
            phrase, conf = rest, conf + 0.2  # "with" already typed: the instrument alone
        elif last in CONNECTORS and first in CONNECTORS:
            continue
        out.append(
            Suggestion(text=lead + phrase, type="addition", insert_position=cursor, confidence=conf)
        )
    return sorted(out, key=lambda s: -s.confidence)


def _dedupe(items: Iterable[Suggestion]) -> list[Suggestion]:
    seen: set[str] = set()
    out: list[Suggestion] = []
    for item in items:
        key = item.text.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def suggest_rules(
    partial: str, *, cursor_position: int | None = None, count: int = 3
) -> list[Suggestion]:
    """Up to `count` suggestions for `partial` with the cursor at `cursor_position` (default: end)."""
    cursor = len(partial) if cursor_position is None else cursor_position
    lowered = _lower(partial)
    head = lowered[:cursor]
    after = lowered[cursor : cursor + 1]
    if after and _WORD_CHARS.match(after):
        return []  # inside a word: nothing sensible to insert
    index = suggest_index()
    ctx = infer_context(head)
    typing = bool(head) and bool(_WORD_CHARS.match(head[-1]))
    words = _WORDS.findall(head)
    if typing and len(words) > 1 and words[-1] in FUNCTION_WORDS:
        typing = False  # a finished function word: continue the phrase after it
    completions = _completions(index, head, cursor, ctx.genre) if typing else []
    replacements = _replacements(index, head, partial_word=typing and bool(completions))
    additions = [] if completions else _additions(ctx, head, cursor)
    return _dedupe([*completions, *replacements, *additions])[:count]
