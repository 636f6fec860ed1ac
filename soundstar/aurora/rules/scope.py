"""Negation and "only" as one small grammar over clauses.

A cue leaves out what follows it within its clause ("without X", "no X at all", "leave out
the X", "hold the X"), a marker what precedes it ("X-free", "X free"), and a few words leave
a whole part out on their own ("drumless", "instrumental"). "Only" cues say the named lineup
is complete ("only X", "X only", "just X and Y", "nothing but X", "nothing else", "a
cappella"). Group words keep families and roles apart: "no drums" leaves out a role, "no
strings" a family. The parser reads a prompt with it; what it finds becomes the prompt's
`Exclusions`, which the lineup resolver and the composer obey.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from soundstar.models import Role

NEGATION_CUES = frozenset(
    {
        "no",
        "without",
        "minus",
        "sans",
        "lacking",
        "excluding",
        "exclude",
        "zero",
        "not",
        "never",
        "avoid",
        "skip",
        "omit",
    }
)
"""One-word cues that leave out what follows them in their clause."""
_PHRASE_CUES: tuple[tuple[str, ...], ...] = (
    ("leave", "out"),
    ("leaving", "out"),
    ("leave", "off"),
    ("hold", "the"),
    ("drop", "the"),
    ("lose", "the"),
    ("cut", "the"),
    ("free", "of"),
    ("devoid", "of"),
)
"""Cues of several words; "hold", "drop" and "cut" leave out only before "the" ("hold the
synth leads", not "hold a note")."""
_SUFFIX_MARKERS = frozenset({"free"})
"""Words after a name that leave it out: "piano-free", "vocal free"."""
NEGATION_SPAN = 4
"""Tokens after a cue that it can reach ("no drums or bass" leaves out both)."""
_CLAUSE_END = re.compile(r"[,.;!?]|\bbut\b|\bwith\b|\bjust\b|\bonly\b")

ONLY_CUES = frozenset({"only", "just", "solely", "exclusively", "purely"})
ONLY_REACH = 3
"""Tokens between an only-cue and the name it covers ("just a fingerpicked guitar")."""
_NOTHING_ELSE = re.compile(r"\bnothing else\b|\band nothing more\b|\bno other instruments?\b")
_A_CAPPELLA = re.compile(r"\ba\s?cap+el+a\b|\bacap+el+a\b")

_GROUP_ROLES: dict[str, tuple[Role, ...]] = {
    "drums": (Role.DRUMS,),
    "drum": (Role.DRUMS,),
    "beat": (Role.DRUMS,),
    "beats": (Role.DRUMS,),
    "percussion": (Role.PERCUSSION, Role.DRUMS),
    "bass": (Role.BASS,),
    "bassline": (Role.BASS,),
    "pads": (Role.PAD,),
    "pad": (Role.PAD,),
    "melody": (Role.LEAD,),
    "melodies": (Role.LEAD,),
    "tune": (Role.LEAD,),
}
"""Words that name a part of the arrangement: leaving one out leaves out the roles ("no
percussion": the kit too)."""
_GROUP_FAMILIES: dict[str, str] = {
    "strings": "strings",
    "brass": "brass",
    "horns": "brass",
    "woodwinds": "woodwind",
    "vocals": "vocal",
    "vocal": "vocal",
    "voice": "vocal",
    "voices": "vocal",
    "singing": "vocal",
    "singer": "vocal",
    "singers": "vocal",
    "vocalist": "vocal",
    "lyrics": "vocal",
    "keys": "keys",
    "guitars": "guitar",
    "guitar": "guitar",
    "synths": "synth",
    "synth": "synth",
    "synthesizers": "synth",
    "synthesizer": "synth",
}
"""Words that name a family of instruments: leaving one out leaves out the family."""
_WHOLE_WORDS: dict[str, tuple[Role | None, str | None]] = {
    "drumless": (Role.DRUMS, None),
    "beatless": (Role.DRUMS, None),
    "vocalless": (None, "vocal"),
    "instrumental": (None, "vocal"),
}
"""Words that leave a part out on their own."""


@dataclass(frozen=True)
class Scope:
    """What the negation and only-cues of one prompt reach."""

    negated: frozenset[int]
    """Token indices a cue or marker leaves out."""
    markers: frozenset[int]
    """Tokens that are negation words themselves ("free" in "piano-free"): not a mood."""
    roles: tuple[Role, ...]
    families: tuple[str, ...]
    only: bool
    """An only-cue covers a name, or "nothing else" / "a cappella" is said."""
    voice_only: bool
    """"a cappella": voices and nothing else."""

    def leaves_out(self, start: int) -> bool:
        """Whether the name starting at token `start` is left out."""
        return start in self.negated


def _clause_open(text: str, offsets: Sequence[int], tokens: Sequence[str], a: int, b: int) -> bool:
    """Whether tokens `a` and `b` (a < b) are in one clause for a negation."""
    return not _CLAUSE_END.search(text[offsets[a] + len(tokens[a]) : offsets[b]])


def _cue_ends(tokens: Sequence[str]) -> list[int]:
    """Index of the last token of each negation cue."""
    ends: list[int] = []
    for k, token in enumerate(tokens):
        if token in NEGATION_CUES:
            ends.append(k)
            continue
        for phrase in _PHRASE_CUES:
            if tuple(tokens[k : k + len(phrase)]) == phrase:
                ends.append(k + len(phrase) - 1)
                break
    return ends


def read_scope(
    tokens: Sequence[str], offsets: Sequence[int], text: str, players: Sequence[tuple[int, int]]
) -> Scope:
    """Read the negations and only-cues of a tokenized prompt. `players` are the (start, end)
    token spans of the instruments and ensembles named in it; group words ("drums",
    "strings") are recognised here."""
    negated: set[int] = set()
    for cue in _cue_ends(tokens):
        for j in range(cue + 1, min(len(tokens), cue + 1 + NEGATION_SPAN)):
            if not _clause_open(text, offsets, tokens, cue, j):
                break
            negated.add(j)
    # a group word inside a longer name ("synth" in "synth leads") names that instrument only
    inside = {k for start, end in players if end - start > 1 for k in range(start, end)}
    groups = [k for k, t in enumerate(tokens) if t in _GROUP_ROLES or t in _GROUP_FAMILIES]
    groups = [k for k in groups if k not in inside]
    spans = list(players) + [(k, k + 1) for k in groups]
    markers: set[int] = set()
    for start, end in spans:
        if (
            end < len(tokens)
            and tokens[end] in _SUFFIX_MARKERS
            and _clause_open(text, offsets, tokens, end - 1, end)
        ):
            negated.add(start)
            markers.add(end)
    roles: list[Role] = []
    families: list[str] = []
    for k in groups:
        if k in negated and tokens[k] in _GROUP_ROLES:
            roles.extend(_GROUP_ROLES[tokens[k]])
        if k in negated and tokens[k] in _GROUP_FAMILIES:
            families.append(_GROUP_FAMILIES[tokens[k]])
    for token in tokens:
        role, family = _WHOLE_WORDS.get(token, (None, None))
        if role is not None:
            roles.append(role)
        if family is not None:
            families.append(family)
    voice_only = bool(_A_CAPPELLA.search(text))
    only = (
        voice_only
        or bool(_NOTHING_ELSE.search(text))
        or any(_only_covers(tokens, start, end) for start, end in players)
    )
    return Scope(
        negated=frozenset(negated),
        markers=frozenset(markers),
        roles=tuple(dict.fromkeys(roles)),
        families=tuple(dict.fromkeys(families)),
        only=only,
        voice_only=voice_only,
    )


def _only_covers(tokens: Sequence[str], start: int, end: int) -> bool:
    """Whether an only-cue covers the name at tokens [start, end): "only piano", "just guitar
    and cello", "nothing but strings", "piano only" (not "not only piano but also strings")."""
    for k in range(max(0, start - ONLY_REACH), start):
        cue = tokens[k] in ONLY_CUES or (
            tokens[k] == "but" and k > 0 and tokens[k - 1] == "nothing"
        )
        if cue and not (k > 0 and tokens[k - 1] == "not"):
            return True
    return end < len(tokens) and tokens[end] == "only"
