"""Who plays: the one resolver of a lineup from what was named, the style and what was left out.

The rule parser, the mapper (for an LLM's answer and for API/page fields) and the enhancer
all decide the lineup here, with one rule for a name (`resolve_name`), one exclusion rule
(`knowledge.exclusion.excludes`) and one fill order (`FILL_ORDER`). A genre's default
lineup fills what the person left open, never with a voice: a voice plays only when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from soundstar.aurora.infer import (
    ensemble_is_the_band,
    genre_kind,
    placed_by_word,
    players,
    refers_back,
)
from soundstar.knowledge import Genre, Instrument, KnowledgeBase, NamedEnsemble, load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import (
    Exclusions,
    InstrumentMention,
    InstrumentSpec,
    MusicalParameters,
    Notice,
    Provenance,
    Role,
)

FILL_ORDER = ("chords", "bass", "drums", "lead", "pad", "arp", "texture", "percussion")
"""The one order in which roles left open are filled from the style's lineup: harmony
first ("a folk duo with fiddle" adds a guitar, not drums)."""
DEFAULT_ROLES = FILL_ORDER[:5]
"""The roles a style's default lineup fills when nothing else is said: chords, bass, drums,
lead and pad (an enhancement may suggest the rest of FILL_ORDER)."""
SECOND_PLAYER_ORDER = ("lead", *(r for r in FILL_ORDER if r != "lead"))
"""The order in which filled roles take a second player to reach an ensemble's stated size:
a second melody voice first (a jazz quintet's front line is two horns)."""


def sings(inst: Instrument) -> bool:
    """Whether an instrument is a voice: it plays only when a person asks for one."""
    return inst.plays == "voice"


WORDLESS_VOICE = "The voice sings a wordless line ({names}): Soundstar does not sing lyrics."


def voice_notice(params: MusicalParameters) -> list[Notice]:
    """The notice a result carries when a voice was asked for: the engine sings no words."""
    kb = load_knowledge()
    voices = [
        kb.instruments[i.name].name.lower()
        for i in params.instrumentation
        if i.name in kb.instruments and sings(kb.instruments[i.name])
    ]
    if not voices:
        return []
    names = ", ".join(dict.fromkeys(voices))
    return [Notice(level="info", message=WORDLESS_VOICE.format(names=names))]


@dataclass
class Lineup:
    """The resolved lineup and what the person should be told about it."""

    instruments: list[InstrumentSpec]
    notices: list[str] = field(default_factory=list)
    complete: bool = False
    """The named lineup is the whole band ("only", a named ensemble that is the band)."""

    def ids(self) -> list[str]:
        return [i.name for i in self.instruments]


def resolve_name(
    kb: KnowledgeBase,
    word: str,
    style: Genre | None,
    named: Sequence[str],
    exclusions: Exclusions,
    by_word: dict[str, str],
    *,
    matched: str | None = None,
) -> tuple[Instrument | None, str | None]:
    """(instrument, id it replaces) for one name given in a lineup of ids `named`; (None,
    None) when it names nothing or refers back to one already named ("the bass" after "an
    upright bass").

    An id named again, or a general word given again, is another player. A general word
    ("bass", "piano") is the style's kind of it (`genre_kind`), passing over kinds named or
    left out; a kind named after a general word takes its place ("a singer ... female
    vocals": the id replaced is returned). `by_word` records the instruments general words
    placed; `matched` is the id a parser found a person's word to name."""
    if word in named:
        return kb.instruments[word], None
    back = refers_back(kb, word, named)
    if back is not None:
        return (kb.instruments[back], None) if by_word.get(back) == word else (None, None)
    kind = genre_kind(kb, word, style, taken={*named, *exclusions.instruments})
    inst = kind or kb.instruments.get(matched or word) or kb.find_instrument(word)
    if inst is None:
        return None, None
    if kind is not None:
        by_word[inst.id] = word
        return inst, None
    placed = None if inst.id in named else placed_by_word(kb, inst.id, by_word)
    if placed is not None:
        del by_word[placed]
    return inst, placed


def resolve_lineup(
    named: Sequence[InstrumentMention],
    style: Genre | None,
    exclusions: Exclusions,
    *,
    ensemble_size: int | None = None,
    fill: bool = True,
    limit: int | None = None,
    usable: Callable[[Instrument], bool] | None = None,
    kb: KnowledgeBase | None = None,
) -> Lineup:
    """The lineup for instruments and ensembles `named` (ids or words, each entry one
    player), in `style`, without anything `exclusions` leaves out.

    A named ensemble ("string quartet") is its members in their parts; a member named beside
    it is that member. With `fill` and unless the lineup is complete (`exclusions.only`, an
    ensemble that is the band), roles left open are filled from the style in FILL_ORDER: up
    to `ensemble_size` players when one is stated ("a jazz trio with piano"), else the
    DEFAULT_ROLES; at most `limit` added, each `usable`. A voice is never added."""
    kb = kb or load_knowledge()
    notices: list[str] = []
    entries: list[InstrumentSpec] = []
    by_word: dict[str, str] = {}
    members: set[str] = set()
    ensembles: list[NamedEnsemble] = []
    for mention in named:
        ids = [e.name for e in entries]
        inst, replaced = resolve_name(kb, mention.name, style, ids, exclusions, by_word)
        if inst is None and refers_back(kb, mention.name, ids) is None:
            ensemble = kb.find_ensemble(mention.name)
            if ensemble is None:
                notices.append(f"unknown instrument {mention.name!r} left out")
                continue
            ensembles.append(ensemble)
            for iid, part in ensemble.members.items():
                members.add(iid)
                for _ in range(2 if iid in ensemble.second_players else 1):
                    _admit(kb, entries, kb.instruments[iid], part, mention, exclusions, notices)
            continue
        if inst is None or (inst.id in members and replaced is None):
            continue
        role = mention.role if mention.role in Role.__members__.values() else inst.role
        if replaced is not None:
            k = ids.index(replaced)
            entries[k] = InstrumentSpec(
                name=inst.id,
                role=Role(role),
                descriptor=mention.descriptor or entries[k].descriptor,
                provenance=mention.provenance,
            )
            continue
        _admit(kb, entries, inst, role, mention, exclusions, notices)
    complete = exclusions.only or ensemble_is_the_band(kb, ensembles, style)
    lineup = Lineup(entries, notices, complete)
    if fill and not complete and style is not None:
        _fill(kb, lineup, style, exclusions, ensemble_size, limit, usable)
    if not lineup.instruments and fill and limit is None:
        _fallback(kb, lineup, exclusions)
    return lineup


def _admit(
    kb: KnowledgeBase,
    entries: list[InstrumentSpec],
    inst: Instrument,
    role: str,
    mention: InstrumentMention,
    exclusions: Exclusions,
    notices: list[str],
) -> None:
    if excludes(exclusions, inst, role):
        notices.append(f"{inst.name} was both asked for and excluded; left out")
        return
    entries.append(
        InstrumentSpec(
            name=inst.id,
            role=Role(role),
            descriptor=mention.descriptor,
            provenance=mention.provenance,
        )
    )


def fill_candidates(
    kb: KnowledgeBase,
    style: Genre,
    role: str,
    present: Collection[str],
    exclusions: Exclusions,
    usable: Callable[[Instrument], bool] | None = None,
) -> Iterable[Instrument]:
    """The style's instruments for `role` that may fill it, in the style's order: none
    already playing, none a plain instrument beside a kind of it ("piano" where an upright
    piano plays), none left out, never a voice."""
    for candidate in {str(k): v for k, v in style.instrumentation.items()}.get(role, ()):
        inst = kb.instruments.get(candidate)
        if inst is None or inst.id in present or sings(inst):
            continue
        if refers_back(kb, inst.name, present) is not None:
            continue
        if excludes(exclusions, inst, role) or (usable is not None and not usable(inst)):
            continue
        yield inst


def _fill(
    kb: KnowledgeBase,
    lineup: Lineup,
    style: Genre,
    exclusions: Exclusions,
    ensemble_size: int | None,
    limit: int | None,
    usable: Callable[[Instrument], bool] | None,
) -> None:
    """Fill the roles left open (see `resolve_lineup`)."""
    room = limit if limit is not None else len(FILL_ORDER)
    provenance = Provenance.DEFAULT
    roles: tuple[str, ...] = DEFAULT_ROLES
    if ensemble_size is not None:
        room = min(room, ensemble_size - players(kb, lineup.ids()))
        provenance, roles = Provenance.INFERRED, FILL_ORDER
    elif limit is not None:
        roles = FILL_ORDER

    def take(role: str) -> bool:
        for inst in fill_candidates(kb, style, role, lineup.ids(), exclusions, usable):
            lineup.instruments.append(
                InstrumentSpec(name=inst.id, role=Role(role), provenance=provenance)
            )
            return True
        return False

    added = 0
    for role in roles:
        present = {i.role.value for i in lineup.instruments}
        if added >= room or role in present or role in exclusions.roles:
            continue
        if role == "chords" and "pad" in present:
            continue  # a pad holds the harmony
        added += take(role)
    more = ensemble_size is not None
    while more and added < room:
        more = False
        for role in SECOND_PLAYER_ORDER:
            present = {i.role.value for i in lineup.instruments}
            if added >= room:
                break
            if role != "drums" and role in present and role not in exclusions.roles and take(role):
                added += 1
                more = True


def _fallback(kb: KnowledgeBase, lineup: Lineup, exclusions: Exclusions) -> None:
    """One instrument when nothing is left to play: a piano, else the first not left out."""
    order = [kb.instruments["piano"], *kb.instruments.values()] if "piano" in kb.instruments else []
    order = order or list(kb.instruments.values())
    inst = next(
        (i for i in order if not i.drum and not sings(i) and not excludes(exclusions, i, "chords")),
        order[0],
    )
    lineup.instruments.append(
        InstrumentSpec(name=inst.id, role=Role.CHORDS, provenance=Provenance.DEFAULT)
    )
    lineup.notices.append(f"no instrument left to play; using {inst.name}")
