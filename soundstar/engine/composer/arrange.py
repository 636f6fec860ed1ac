"""Who plays what, decided once, as plain data, before a note is written.

`arrange` turns the lineup into parts: what kind of part each instrument plays (from how
the knowledge base says it plays and the role it was given), its voices, where its groove
comes from, the kit a style implies beside kit pieces, who keeps the beat, who partners
or doubles whom, and the track's name. What a person left out (`params.exclusions`) is
left out of every part, the ones the composer adds itself included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from soundstar.engine.composer.bass_part import beat_bass, marks_every_beat
from soundstar.engine.composer.character import character_of
from soundstar.engine.composer.comping import is_idiom, plays_style, two_handed
from soundstar.engine.composer.drums_part import shaker_groove
from soundstar.engine.composer.feel import FAST_BPM
from soundstar.engine.composer.grooves import (
    bass_groove,
    kit_groove,
    kit_voice_names,
    percussion_groove,
    style_of,
    without_voices,
)
from soundstar.engine.composer.strokes import pattern_voices
from soundstar.errors import ParameterError
from soundstar.knowledge import BassGroove, DrumGroove, Genre, Instrument, KnowledgeBase
from soundstar.knowledge.exclusion import excludes
from soundstar.models import InstrumentSpec, MusicalParameters, Provenance, Role, split_meter

# Timbres whose chord parts are power chords (see `voicing.power_chord`).
POWER_CHORD_TIMBRES = frozenset({"guitar_distorted"})
# How the instruments play that are heard on the drum channel (a groove of drum voices).
_DRUM_CHANNEL = frozenset({"kit", "kit_piece", "hand_percussion", "shaker"})


class PartKind(StrEnum):
    """What a part's writer does (see `writers.WRITERS`)."""

    KIT = "kit"  # a drummer: a groove on a kit, with fills, crashes and an ending
    PIECE = "piece"  # a kit piece, hand percussion or a shaker: its own voices from a groove
    PITCHED_PERCUSSION = "pitched_percussion"  # timpani: chord roots in the low drum's pattern
    BASS = "bass"
    DOUBLE = "double"  # the first bass line again, in this instrument's register
    MELODY = "melody"
    PARTNER = "partner"  # a second line fitted to the melody
    ARPEGGIO = "arpeggio"
    CHORDS = "chords"
    PAD = "pad"
    TEXTURE = "texture"


@dataclass(frozen=True)
class Part:
    """One track's part, decided: its writer (`kind`), the instrument and role, the random
    stream it draws from (`stream`: its place in the lineup; a kit a piece implies draws
    from the piece's), and what its writer needs beyond the piece's timeline."""

    kind: PartKind
    instrument: str
    role: Role
    track_name: str
    program: int
    is_drum: bool
    register: tuple[int, int]
    stream: int
    voices: tuple[str, ...] = ()  # the drum voices a piece or shaker plays
    drum_groove: DrumGroove | None = None  # where its strokes come from (kit, piece, timpani)
    fills: bool = False  # a piece playing the kit's groove, fills included
    named_voices: frozenset[str] = frozenset()  # kit: voices asked for (kept at any tempo)
    inside: tuple[tuple[str, ...], ...] = ()  # kit: voices of each piece named inside it
    left_out: frozenset[str] = frozenset()  # kit: voices the person left out
    bass_groove: BassGroove | None = None
    keeps_beat: bool = False  # marks every beat (a named tempo, no drums)
    style: str | None = None  # comping style of a chord or pad part
    power_chords: bool = False
    octave: int = 0  # an octave up or down asked for ("low strings")
    follows: int | None = None  # place of the part a partner or doubling joins
    partner_voice: int = 0  # a partner's place among the melody's partners (1, 2, ...)
    featured: bool = False  # the person named this instrument: the mix brings it forward


def instrument_of(kb: KnowledgeBase, name: str) -> Instrument:
    """The knowledge base's instrument of a lineup entry (its id, or a name of it)."""
    inst = kb.instruments.get(name) or kb.find_instrument(name)
    if inst is None:
        raise ParameterError(f"unknown instrument {name!r}", field="instrumentation")
    return inst


def on_drum_channel(inst: Instrument) -> bool:
    """A drum kit, a kit piece or unpitched percussion (congas, a shaker): it plays a
    groove on the drum channel. Pitched percussion (timpani) does not."""
    return inst.plays in _DRUM_CHANNEL


@dataclass(frozen=True)
class _Player:
    """A member of the lineup the person did not leave out."""

    index: int
    spec: InstrumentSpec
    inst: Instrument

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices a kit piece or percussionist plays: the one its descriptor names ("a
        ride cymbal": the ride; "an open hi-hat": the open hat), else all the instrument's."""
        voices = self.inst.voices
        named = tuple(v for v in voices if self.spec.descriptor in (v, v.removesuffix("_hat")))
        return named or voices


def _players(kb: KnowledgeBase, params: MusicalParameters) -> list[_Player]:
    lineup = [
        _Player(i, s, instrument_of(kb, s.name)) for i, s in enumerate(params.instrumentation)
    ]
    return [p for p in lineup if not excludes(params.exclusions, p.inst, p.spec.role)]


def _left_out_voices(kb: KnowledgeBase, params: MusicalParameters) -> frozenset[str]:
    """Drum voices no kit may play: those of every kit piece left out ("no hi-hats"), and of
    every hand percussionist left out, where they are not a kit's own (a cajon's kick is
    the kit's; a salsa groove's congas are the conguero's)."""
    if params.exclusions.is_empty():
        return frozenset()
    kit_voices = {
        v for inst in kb.instruments.values() if inst.plays == "kit_piece" for v in inst.voices
    }
    out: set[str] = set()
    for inst in kb.instruments.values():
        if inst.voices and excludes(params.exclusions, inst, inst.role):
            out.update(v for v in inst.voices if inst.plays == "kit_piece" or v not in kit_voices)
    return frozenset(out)


def keeper_index(
    players: Sequence[_Player], params: MusicalParameters, *, steady: bool = False
) -> int | None:
    """Lineup index of the part that marks every beat: a tempo the person named (or a
    danceability that asks for a steady pulse) is heard as the beat, and where no drums or
    unpitched percussion play, the bass (else the chords) keeps it (`steady`: the
    character asks for a clear pulse). None when neither was asked or a drum part plays; timpani, which strike the roots in a pattern of their
    own, do not keep the beat."""
    asked = params.tempo_stated or steady
    if not asked or any(on_drum_channel(p.inst) for p in players):
        return None
    for wanted in (Role.BASS, Role.CHORDS):
        for p in players:
            if p.spec.role == wanted:
                return p.index
    return None


def beat_keeper(params: MusicalParameters, kb: KnowledgeBase) -> int | None:
    """Lineup index of the part that keeps the beat (see `keeper_index`)."""
    steady = character_of(params, style_of(kb, params)).steady
    return keeper_index(_players(kb, params), params, steady=steady)


@dataclass(frozen=True, kw_only=True)
class _KitPlan:
    """How the kit parts asked for are played. The kit's part (`groove`) is written at
    lineup index `kit`: a named kit, with the pieces named beside it that it plays
    (`inside`, their voices `inside_voices`) heard in it; else the style's kit (`implied`),
    written just before that piece's own part, where the pieces named leave it something
    to play. Every other piece plays its own voices on a track of its own: from
    `pieces_groove` (the style's groove, fills included) where its bars have them (the
    pieces in `from_kit_groove`: hi-hats in trap), else from the style's or the meter's
    hand-percussion patterns (claps in a folk song)."""

    groove: DrumGroove | None = None
    kit: int | None = None
    implied: Instrument | None = None
    inside: frozenset[int] = frozenset()
    inside_voices: tuple[tuple[str, ...], ...] = ()
    named: frozenset[str] = frozenset()
    pieces_groove: DrumGroove | None = None
    from_kit_groove: frozenset[int] = frozenset()


def _kit_plan(
    kb: KnowledgeBase,
    genre: Genre,
    params: MusicalParameters,
    players: list[_Player],
    left_out: frozenset[str],
) -> _KitPlan:
    """Decide how the kit parts asked for are played (see `_KitPlan`)."""
    drummers = [p for p in players if p.inst.drum]
    if not drummers:
        return _KitPlan()
    kits = [p.index for p in drummers if p.inst.plays == "kit"]
    pieces = {p.index: p.voices for p in drummers if p.inst.plays == "kit_piece"}
    named = frozenset(v for voices in pieces.values() for v in voices)
    style_kit = next(
        (kb.instruments[k] for k in genre.instrumentation.get("drums", ()) if k in kb.instruments),
        None,
    )
    may_imply = style_kit is not None and not (
        params.exclusions.only or excludes(params.exclusions, style_kit, Role.DRUMS)
    )
    # hi-hats asked for alone ("only hi-hats"), or in a style without drums, play alone
    if not kits and (not may_imply or all(on_drum_channel(p.inst) for p in players)):
        return _KitPlan(named=named)
    # congas named beside a kit take the groove's conga voices; a cajon leaves it its kick
    kit_voices = {v for inst in kb.instruments.values() if inst.drum for v in inst.voices}
    percussionists = frozenset(
        v
        for p in players
        if p.inst.plays in ("hand_percussion", "shaker")
        for v in p.inst.voices
        if v not in kit_voices
    )
    style_groove = kit_groove(kb, genre, params.time_signature)
    groove = without_voices(style_groove, percussionists) or style_groove
    kept = without_voices(groove, left_out) if left_out else groove
    if kits:
        played = kit_voice_names(kept) if kept is not None else frozenset()
        inside = frozenset(i for i, v in pieces.items() if played.intersection(v))
        return _KitPlan(
            groove=kept,
            kit=kits[0],
            inside=inside | set(kits[1:]),
            inside_voices=tuple(v for i, v in pieces.items() if i in inside),
            named=named,
        )
    remaining = without_voices(kept, named) if kept is not None else None
    return _KitPlan(
        groove=remaining,
        kit=next(iter(pieces)) if remaining is not None else None,  # else the pieces play it all
        implied=style_kit,
        named=named,
        pieces_groove=groove,
        from_kit_groove=frozenset(
            i
            for i, v in pieces.items()
            if pattern_voices(groove, fill=False, ghosts=False) & set(v)
        ),
    )


# The part an instrument plays follows from how it plays; a pitched instrument's, from its role.
_KIND_BY_PLAYS = {
    "kit": PartKind.KIT,
    "kit_piece": PartKind.PIECE,
    "hand_percussion": PartKind.PIECE,
    "shaker": PartKind.PIECE,
    "pitched_percussion": PartKind.PITCHED_PERCUSSION,
}
_KIND_BY_ROLE = {
    Role.LEAD: PartKind.MELODY,
    Role.CHORDS: PartKind.CHORDS,
    Role.PAD: PartKind.PAD,
    Role.BASS: PartKind.BASS,
    Role.ARP: PartKind.ARPEGGIO,
    Role.TEXTURE: PartKind.TEXTURE,
    Role.PERCUSSION: PartKind.PITCHED_PERCUSSION,  # a pitched instrument struck: timpani-like
    Role.DRUMS: PartKind.PITCHED_PERCUSSION,
}
# A second player of these parts joins the first instead of writing a line of its own.
_JOINS_THE_FIRST = {PartKind.MELODY: PartKind.PARTNER, PartKind.BASS: PartKind.DOUBLE}
# A keyboard that plays the tune too splits at middle C: the accompaniment's top in the left
# hand, the tune's floor in the right.
_LEFT_HAND_TOP = 67
_RIGHT_HAND_BOTTOM = 60


def kind_of(inst: Instrument, role: Role, style: str | None) -> PartKind:
    """The part `inst` plays in `role`: from how it plays (a kit, congas, a shaker), else
    from the role; a lead asked to arpeggiate ("arpeggiated piano") arpeggiates."""
    if inst.plays in _KIND_BY_PLAYS:
        return _KIND_BY_PLAYS[inst.plays]
    if role == Role.LEAD and style == "arpeggio":
        return PartKind.ARPEGGIO
    return _KIND_BY_ROLE[role]


class _Namer:
    """Track names: the instrument's, numbered where it already plays ("Violin 2")."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, inst: Instrument) -> str:
        self.seen[inst.id] = self.seen.get(inst.id, 0) + 1
        count = self.seen[inst.id]
        return inst.name if count == 1 else f"{inst.name} {count}"


@dataclass
class _Arranger:
    """What deciding one part needs to know of the piece and of the parts decided so far."""

    kb: KnowledgeBase
    genre: Genre
    meter: str
    kit_plan: _KitPlan
    keeper: int | None
    left_out: frozenset[str]
    fast: bool
    parts: list[Part] = field(default_factory=list)
    firsts: dict[PartKind, int] = field(default_factory=dict)
    joined: Counter[PartKind] = field(default_factory=Counter)
    chord_parts: int = 0
    comped: list[str] = field(default_factory=list)  # the styles chord parts play so far
    name: _Namer = field(default_factory=_Namer)

    def add(
        self, player: _Player, kind: PartKind, *, inst: Instrument | None = None, **fields: Any
    ) -> None:
        """Append the part of `player`, played on `inst` (the kit a piece implies) or its own
        instrument; drum parts take no octave shift."""
        inst = inst or player.inst
        drum = on_drum_channel(inst)
        octave = self.kb.articulation(player.spec.descriptor).octave
        self.parts.append(
            Part(
                kind=kind,
                instrument=inst.id,
                role=player.spec.role,
                track_name=self.name(inst),
                program=inst.gm_program,
                is_drum=drum,
                register=(inst.register[0], inst.register[1]),
                stream=player.index,
                octave=0 if drum else octave,
                featured=inst is player.inst and player.spec.provenance == Provenance.STATED,
                **fields,
            )
        )

    def kit(self, player: _Player) -> bool:
        """Add the kit's part where it is written at `player`: the style's kit before the
        piece's own part, or the named kit. True where the player's part is the kit's."""
        plan = self.kit_plan
        if player.index != plan.kit or plan.groove is None:
            return player.inst.plays == "kit"  # a second kit plays inside the first
        groove: dict[str, Any] = {
            "drum_groove": plan.groove,
            "named_voices": plan.named,
            "left_out": self.left_out,
        }
        if plan.implied is not None:
            self.add(player, PartKind.KIT, inst=plan.implied, **groove)
            return False
        self.add(player, PartKind.KIT, inside=plan.inside_voices, **groove)
        return True

    def player(self, player: _Player) -> None:
        """Add the part of one member of the lineup, with what its kind needs."""
        if player.index in self.kit_plan.inside or self.kit(player):
            return
        inst, role = player.inst, player.spec.role
        playing = self.kb.articulation(player.spec.descriptor)
        kind = kind_of(inst, role, playing.style)
        if kind in _JOINS_THE_FIRST and kind in self.firsts:
            joins = _JOINS_THE_FIRST[kind]
            self.joined[joins] += 1
            voice: dict[str, Any] = {}
            if joins == PartKind.PARTNER:
                voice["partner_voice"] = self.joined[joins]
            self.add(player, joins, follows=self.firsts[kind], **voice)
            return
        self.firsts.setdefault(kind, len(self.parts))
        keeps = player.index == self.keeper
        if kind == PartKind.PIECE:
            fills = player.index in self.kit_plan.from_kit_groove
            if fills:
                source = self.kit_plan.pieces_groove
            elif inst.plays == "shaker":
                source = shaker_groove(self.meter, fast=self.fast)
            else:
                source = percussion_groove(self.kb, self.genre, self.meter, player.voices)
            self.add(player, kind, voices=player.voices, drum_groove=source, fills=fills)
        elif kind == PartKind.PITCHED_PERCUSSION:
            groove = percussion_groove(self.kb, self.genre, self.meter, ("tom_low",))
            self.add(player, kind, drum_groove=groove)
        elif kind == PartKind.BASS:
            self.add(
                player,
                kind,
                bass_groove=self._bass_groove(playing.bass_groove, keeps),
                keeps_beat=keeps,
            )
        elif kind == PartKind.PAD:
            self.add(player, kind, style=playing.style or "pad")
        elif kind == PartKind.CHORDS:
            # An instrument plays the genre's idiom for its family that no part plays yet (a
            # banjo rolls); else a second chord part takes the genre's next pattern style, so
            # two parts in one range do not double each other (a viola broken, a piano in
            # block chords).
            idiom = next(
                (
                    c
                    for c in self.genre.comping
                    if is_idiom(c) and plays_style(c, inst.family) and c not in self.comped
                ),
                None,
            )
            styles = [c for c in self.genre.comping if c != "none" and not is_idiom(c)]
            styles = styles or ["block"]
            style = playing.style or idiom or styles[self.chord_parts % len(styles)]
            if style != idiom:
                self.chord_parts += 1
                if inst.hands == 2 and not playing.style:
                    style = two_handed(style)
            self.comped.append(style)
            power = inst.timbre in POWER_CHORD_TIMBRES
            self.add(player, kind, style=style, power_chords=power, keeps_beat=keeps)
        else:
            self.add(player, kind)

    def tune_in_the_right_hand(self) -> None:
        """Where no part carries the tune, a keyboard played with both hands plays it with
        its right hand over its own accompaniment, moved under middle C into the left hand
        (a solo piano piece, a piano trio): its tune is a part of its own, on its own track."""
        if any(p.role == Role.LEAD for p in self.parts):
            return
        index = next(
            (
                i
                for i, p in enumerate(self.parts)
                if p.kind == PartKind.CHORDS and self.kb.instruments[p.instrument].hands == 2
            ),
            None,
        )
        if index is None:
            return
        hands = self.parts[index]
        lo, hi = hands.register
        self.parts[index] = replace(hands, register=(lo, min(hi, _LEFT_HAND_TOP)))
        self.parts.append(
            replace(
                hands,
                kind=PartKind.MELODY,
                role=Role.LEAD,
                track_name=f"{hands.track_name} right hand",
                register=(max(lo, _RIGHT_HAND_BOTTOM), hi),
                style=None,
                power_chords=False,
                keeps_beat=False,
            )
        )

    def _bass_groove(self, asked: str | None, keeps_beat: bool) -> BassGroove:
        """The style's bass groove (or the one a descriptor asked for); where the bass keeps
        the beat and the groove does not mark every beat, a root on every beat."""
        groove = bass_groove(self.kb, self.genre, self.meter, asked)
        num, den = split_meter(self.meter)
        beats_per_bar = num * 4.0 / den
        if keeps_beat and not marks_every_beat(groove, beats_per_bar):
            return beat_bass(beats_per_bar, self.meter)
        return groove


def arrange(params: MusicalParameters, kb: KnowledgeBase) -> list[Part]:
    """Every part of the piece, in the order they are written, with all that decides them."""
    genre = style_of(kb, params)
    players = _players(kb, params)
    left_out = _left_out_voices(kb, params)
    arranger = _Arranger(
        kb=kb,
        genre=genre,
        meter=params.time_signature,
        kit_plan=_kit_plan(kb, genre, params, players, left_out),
        keeper=keeper_index(players, params, steady=character_of(params, genre).steady),
        left_out=left_out,
        fast=params.tempo_bpm >= FAST_BPM,
    )
    for player in players:
        arranger.player(player)
    if Role.LEAD not in params.exclusions.roles:
        arranger.tune_in_the_right_hand()
    return arranger.parts
