"""Find knowledge-base terms (genres, moods, instruments, artists, eras, structures) in text.

Longest match first, left to right, over tokens; hyphens count as spaces so
"lo-fi", "lo fi" and the alias "lofi" all meet the same entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from soundstar.knowledge import load_knowledge
from soundstar.knowledge.loader import load_derived

_TOKEN = re.compile(r"[a-z0-9&#'+]+")
_CLAUSE_BREAK = re.compile(r"[.,;:!?]\s")


def tokenize(text: str) -> list[tuple[str, int]]:
    """Lowercase tokens with their character offsets."""
    return [
        (m.group(0).strip("'"), m.start()) for m in _TOKEN.finditer(text.lower().replace("-", " "))
    ]


@dataclass(frozen=True)
class Mention:
    table: str
    id: str
    surface: str
    start: int  # token index
    end: int  # token index, exclusive
    offset: int  # character offset in the text


Index = tuple[dict[tuple[str, ...], list[tuple[str, str]]], int]


@lru_cache(maxsize=1)
def _index() -> Index:
    """Token tuples → the entries they name, and the longest tuple: compiled once per
    knowledge base (building it tokenizes every surface form)."""
    return load_derived("mention-index", _build_index, tuple, code=Path(__file__))


def _build_index() -> Index:
    index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    longest = 1
    for surface, refs in load_knowledge().vocabulary_all().items():
        key = tuple(t for t, _ in tokenize(surface))
        if not key:
            continue
        bucket = index.setdefault(key, [])
        for ref in refs:
            if ref not in bucket:
                bucket.append(ref)
        longest = max(longest, len(key))
    return index, longest


def find_mentions(text: str) -> list[Mention]:
    """Every knowledge-base term in the text; a longer term hides the shorter ones inside it
    ("drum and bass" is a genre, not two instruments); one surface in two tables counts for both.
    An instrument followed by what it plays in a production ("piano stabs") spans that word too,
    so the word names no instrument of its own; a style whose name states one of its own moods
    ("happy hardcore", "epic orchestral") names that mood as well."""
    index, longest = _index()
    kb = load_knowledge()
    tokens = tokenize(text)
    words = [t for t, _ in tokens]
    mentions: list[Mention] = []
    covered: set[int] = set()
    for size in range(min(longest, len(words)), 0, -1):
        for start in range(0, len(words) - size + 1):
            key = tuple(words[start : start + size])
            refs = index.get(key)
            span = set(range(start, start + size))
            if not refs or span & covered:
                continue
            if size > 1 and _CLAUSE_BREAK.search(
                text, tokens[start][1], tokens[start + size - 1][1]
            ):
                continue  # "no bass. drone" is two clauses, not the term "bass drone"
            covered |= span
            end = start + size
            if (
                end < len(words)
                and end not in covered
                and kb.playing_noun(words[end])
                and any(table == "instruments" for table, _ in refs)
                and not _CLAUSE_BREAK.search(text, tokens[end - 1][1], tokens[end][1])
            ):
                covered.add(end)
                end += 1
            for table, ref_id in refs:
                mentions.append(Mention(table, ref_id, " ".join(key), start, end, tokens[start][1]))
    mentions.extend(_moods_in_style_names(mentions, words, tokens, index))
    mentions.sort(key=lambda m: (m.start, -(m.end - m.start)))
    return mentions


def _moods_in_style_names(
    mentions: list[Mention],
    words: list[str],
    tokens: list[tuple[str, int]],
    index: dict[tuple[str, ...], list[tuple[str, str]]],
) -> list[Mention]:
    """Moods named inside a style's name that the style itself has ("happy" in "happy
    hardcore"), which the longer name would otherwise hide."""
    genres = load_knowledge().genres
    found: list[Mention] = []
    for m in mentions:
        if m.table != "genres" or m.id not in genres or m.end - m.start < 2:
            continue
        own = set(genres[m.id].moods)
        for start in range(m.start, m.end):
            for end in range(start + 1, m.end + 1):
                if (start, end) == (m.start, m.end):
                    continue
                for table, mood_id in index.get(tuple(words[start:end]), ()):
                    if table == "moods" and mood_id in own:
                        surface = " ".join(words[start:end])
                        found.append(Mention(table, mood_id, surface, start, end, tokens[start][1]))
    return found
