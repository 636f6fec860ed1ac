"""Structure stage: MusicalParameters + StructuralPlan + seed → a multi-track Score.

Deterministic for a seed: each track draws from its own generator seeded by
(seed, track index), so the same request always gives the same music.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from soundstar.engine.composer.bass_part import (
    basic_bass,
    beat_bass,
    marks_every_beat,
    write_bass,
)
from soundstar.engine.composer.comping import write_arp, write_comping, write_texture
from soundstar.engine.composer.drums_part import (
    HAND_PERCUSSION,
    SHAKER_AND_TAMBOURINE,
    basic_groove,
    pattern_voices,
    write_drums,
    write_hand_percussion,
    write_percussion,
    write_pitched_percussion,
)
from soundstar.engine.composer.melody import write_melody
from soundstar.engine.composer.partner import write_partner
from soundstar.engine.composer.timeline import Timeline, build_timeline
from soundstar.engine.composer.voicing import into_register
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.errors import ParameterError
from soundstar.knowledge import (
    BassGroove,
    DrumBar,
    DrumGroove,
    Genre,
    Instrument,
    KnowledgeBase,
    load_knowledge,
)
from soundstar.models import (
    ChordEvent,
    InstrumentSpec,
    MusicalParameters,
    Note,
    Role,
    Score,
    ScoreSection,
    StructuralPlan,
    Track,
    split_meter,
)
from soundstar.theory import key_scale, pitch_class

__all__ = ["Timeline", "beat_keeper", "build_timeline", "compose"]

# Timbres whose chord parts are power chords (see `voicing.power_chord`).
POWER_CHORD_TIMBRES = frozenset({"guitar_distorted"})


def _genre(kb: KnowledgeBase, params: MusicalParameters) -> Genre:
    for name in (params.sub_genre, params.genre):
        if name:
            genre = kb.find_genre(name)
            if genre is not None:
                return genre
    fallback = kb.find_genre("pop")
    if fallback is None:  # pragma: no cover - the knowledge base always has pop
        raise ParameterError(f"unknown genre {params.genre!r}")
    return fallback


def _lineage(kb: KnowledgeBase, genre: Genre) -> list[Genre]:
    """The genre, then its parent, grandparent, ...: where a style's grooves are looked up."""
    return [genre] + [kb.genres[g] for g in kb.genre_ancestors(genre.id) if g in kb.genres]


def _style_drum_grooves(kb: KnowledgeBase, genre: Genre, meter: str) -> Iterator[DrumGroove]:
    """The drum grooves in the meter of the genre, then of its parent, grandparent, ..."""
    for style in _lineage(kb, genre):
        for gid in style.drum_grooves:
            groove = kb.drum_grooves.get(gid)
            if groove is not None and groove.meter == meter:
                yield groove


def _drum_groove(kb: KnowledgeBase, genre: Genre, meter: str) -> DrumGroove:
    """The first groove in the meter of the genre's, else of its nearest ancestor's, else
    the meter's plain groove (the first in the file: a waltz, not a jazz waltz, for a pop
    song in 3/4; a hand percussionist's is not one), else a basic one built for the meter."""
    styled = next(_style_drum_grooves(kb, genre, meter), None)
    if styled is not None:
        return styled
    for groove in kb.drum_grooves.values():
        if groove.meter == meter and not groove.id.startswith(HAND_PERCUSSION):
            return groove
    num, den = split_meter(meter)
    return basic_groove(num * 4.0 / den, num)


def _percussion_groove(
    kb: KnowledgeBase, genre: Genre, meter: str, voices: tuple[str, ...]
) -> DrumGroove | None:
    """Where a hand percussionist's patterns come from: the style's (or its nearest
    ancestor's) groove in the meter, if it has one for any of the voices (a salsa's
    tumbao); else the hand-percussion groove of the meter; None in a meter with neither."""
    for groove in _style_drum_grooves(kb, genre, meter):
        if pattern_voices(groove, fill=False, ghosts=False) & set(voices):
            return groove
    return _hand_groove(kb, meter)


def _hand_groove(kb: KnowledgeBase, meter: str) -> DrumGroove | None:
    """The hand-percussion groove of the meter, if there is one."""
    return next(
        (
            g
            for g in kb.drum_grooves.values()
            if g.id.startswith(HAND_PERCUSSION) and g.meter == meter
        ),
        None,
    )


def _bass_groove(
    kb: KnowledgeBase, genre: Genre, meter: str, asked: str | None = None
) -> BassGroove:
    """The groove a descriptor asked for ("pulsing bass"), if it fits the meter; else the
    first in the meter of the genre's or its nearest ancestor's; else the meter's plain
    groove (the first in the file); else a root on every beat."""
    styles = [gid for style in _lineage(kb, genre) for gid in style.bass_grooves]
    for gid in ([asked] if asked else []) + styles:
        groove = kb.bass_grooves.get(gid)
        if groove is not None and groove.meter == meter:
            return groove
    for groove in kb.bass_grooves.values():
        if groove.meter == meter:
            return groove
    num, den = split_meter(meter)
    return basic_bass(num * 4.0 / den, num)


def _instrument(kb: KnowledgeBase, name: str) -> Instrument:
    inst = kb.instruments.get(name) or kb.find_instrument(name)
    if inst is None:
        raise ParameterError(f"unknown instrument {name!r}", field="instrumentation")
    return inst


def _doubled(notes: list[Note], register: tuple[int, int]) -> list[Note]:
    """The same line on another instrument, each note moved by octaves into its register:
    two bass parts that each drew a line of their own would fight over the root."""
    lo, hi = register
    return [n.model_copy(update={"pitch": into_register(n.pitch, lo, hi)}) for n in notes]


def _shift_octave(notes: list[Note], octave: int, register: tuple[int, int]) -> list[Note]:
    """The part an octave lower or higher ("low strings"), when its middle note stays in
    the instrument's register; unchanged otherwise (the instrument cannot go there)."""
    if not notes:
        return notes
    middle = float(np.median([n.pitch for n in notes])) + 12 * octave
    if not register[0] <= middle <= register[1]:
        return notes
    return [
        n.model_copy(update={"pitch": int(np.clip(n.pitch + 12 * octave, 0, 127))}) for n in notes
    ]


def _is_drum_part(kb: KnowledgeBase, spec: InstrumentSpec) -> bool:
    """A drum kit, a kit piece or unpitched percussion (congas, a shaker): it plays a groove
    on the drum channel. Percussion without drum voices (timpani) is pitched."""
    inst = _instrument(kb, spec.name)
    return (
        spec.role == Role.DRUMS or inst.drum or (spec.role == Role.PERCUSSION and bool(inst.voices))
    )


def _is_kit_part(kb: KnowledgeBase, spec: InstrumentSpec) -> bool:
    """A drum kit or a kit piece (hi-hats, hand claps), played by the drummer."""
    return spec.role == Role.DRUMS or (
        _instrument(kb, spec.name).drum and spec.role != Role.PERCUSSION
    )


def _kit_voice_names(groove: DrumGroove) -> frozenset[str]:
    """Every voice a kit playing `groove` is heard on: the groove's (ghost notes alone are
    not heard as the piece: a techno rim is no snare), with the kick and crash it plays on
    the last bar and at lively section starts."""
    return pattern_voices(groove, ghosts=False) | {"kick", "crash"}


def _without_voices(groove: DrumGroove, voices: frozenset[str]) -> DrumGroove | None:
    """The groove less `voices`, which named players take to tracks of their own, in every
    bar (its fill too); None where nothing would be left of its beat."""

    def less(bar: DrumBar | None) -> DrumBar | None:
        if bar is None:
            return None
        rest = {k: v for k, v in bar.voices.items() if k not in voices}
        return bar.model_copy(update={"voices": rest}) if rest else None

    kept = {k: v for k, v in groove.voices.items() if k not in voices}
    if not kept:
        return None
    if not pattern_voices(groove) & voices:
        return groove
    return groove.model_copy(
        update={
            "voices": kept,
            "alternate": less(groove.alternate),
            "fill": less(groove.fill),
            "variations": tuple(v for v in map(less, groove.variations) if v is not None),
        }
    )


def _piece_voices(kb: KnowledgeBase, spec: InstrumentSpec) -> tuple[str, ...]:
    """The voices a kit piece or percussionist plays: the one its descriptor names ("a
    ride cymbal": the ride; "an open hi-hat": the open hat), else all the instrument's."""
    voices = _instrument(kb, spec.name).voices
    named = tuple(v for v in voices if spec.descriptor in (v, v.removesuffix("_hat")))
    return named or voices


@dataclass(frozen=True)
class _Drummers:
    """Who plays the kit, and what. The part at `kit_index` plays `groove`: a named kit
    (pieces named beside it play inside it, as `inside`), else the style's own kit
    (`implied_kit`, written before the piece at that index, where the pieces named leave
    it something to play and the lineup is more than percussion). Every other kit piece
    plays its own voices on a track of its own (`alone`): from `pieces_groove` (the
    style's groove, fills included) where its bars have them (hi-hats in trap), else
    from the style's or the meter's hand-percussion patterns (claps in a folk song).
    `piece_voices` holds the voices each kit piece plays (see `_piece_voices`)."""

    groove: DrumGroove | None = None
    kit_index: int | None = None
    implied_kit: Instrument | None = None
    alone: frozenset[int] = frozenset()
    inside: frozenset[int] = frozenset()
    named_voices: frozenset[str] = frozenset()
    pieces_groove: DrumGroove | None = None
    piece_voices: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def inside_voices(self) -> tuple[tuple[str, ...], ...]:
        """The voices of each piece played inside the named kit, in lineup order."""
        return tuple(self.piece_voices[i] for i in sorted(self.inside) if i in self.piece_voices)

    def piece_source(self, voices: tuple[str, ...]) -> DrumGroove | None:
        """The style's groove when a piece with `voices` plays from it (outside its fills:
        toms only in fills would hardly be heard), else None."""
        source = self.pieces_groove
        if source is None or not pattern_voices(source, fill=False, ghosts=False) & set(voices):
            return None
        return source


def _drummers(kb: KnowledgeBase, genre: Genre, params: MusicalParameters) -> _Drummers:
    """Decide how the kit parts asked for are played (see `_Drummers`)."""
    specs = params.instrumentation
    parts = [i for i, s in enumerate(specs) if _is_kit_part(kb, s)]
    if not parts:
        return _Drummers()
    voices = {i: _piece_voices(kb, specs[i]) for i in parts}
    kits = [i for i in parts if not voices[i]]
    piece_voices = {i: v for i, v in voices.items() if v}
    pieces = list(piece_voices)
    named = frozenset(v for i in parts for v in voices[i])
    style_kit = next(
        (kb.instruments[k] for k in genre.instrumentation.get("drums", ()) if k in kb.instruments),
        None,
    )
    # hi-hats asked for alone ("only hi-hats"), or in a style without drums, play alone
    percussion_only = all(_is_drum_part(kb, s) for s in specs)
    if not kits and (style_kit is None or Role.DRUMS in params.exclusions.roles or percussion_only):
        return _Drummers(alone=frozenset(pieces), named_voices=named, piece_voices=piece_voices)
    # congas named beside a kit take the groove's conga voices; a cajon leaves it its kick
    kit_voices = {v for inst in kb.instruments.values() if inst.drum for v in inst.voices}
    percussionists = frozenset(
        v
        for s in specs
        if s.role == Role.PERCUSSION and not _is_kit_part(kb, s)
        for v in _instrument(kb, s.name).voices
        if v not in kit_voices
    )
    style_groove = _drum_groove(kb, genre, params.time_signature)
    groove = _without_voices(style_groove, percussionists) or style_groove
    if kits:
        played = _kit_voice_names(groove)
        alone = frozenset(i for i in pieces if not played.intersection(voices[i]))
        return _Drummers(
            groove,
            kits[0],
            None,
            alone,
            frozenset(pieces + kits[1:]) - alone,
            named_voices=named,
            piece_voices=piece_voices,
        )
    kit_groove = _without_voices(groove, named)
    return _Drummers(
        kit_groove,
        pieces[0] if kit_groove is not None else None,  # the pieces named play all of it
        style_kit,
        frozenset(pieces),
        named_voices=named,
        pieces_groove=groove,
        piece_voices=piece_voices,
    )


def _piece_part(
    kb: KnowledgeBase,
    genre: Genre,
    params: MusicalParameters,
    timeline: Timeline,
    voices: tuple[str, ...],
    rng: np.random.Generator,
    swing: float,
    *,
    kit_groove: DrumGroove | None = None,
) -> list[Note]:
    """A percussionist's or a kit piece's part, its own voices only: from `kit_groove`
    (fills included) when it plays the kit's patterns, else from the style's patterns for
    them or the meter's hand-percussion groove (see `write_hand_percussion`)."""
    groove = kit_groove or _percussion_groove(kb, genre, params.time_signature, voices)
    return write_hand_percussion(
        timeline,
        groove,
        voices,
        GM_DRUM_NOTES,
        rng,
        swing=max(swing, groove.swing if groove is not None else 0.0),
        tempo_bpm=params.tempo_bpm,
        fills=kit_groove is not None,
    )


def _kit_part(
    timeline: Timeline,
    groove: DrumGroove,
    named_voices: frozenset[str],
    rng: np.random.Generator,
    swing: float,
    params: MusicalParameters,
    *,
    pieces: tuple[tuple[str, ...], ...] = (),
) -> list[Note]:
    """The drummer's part: the style's groove on the kit, with the `pieces` named inside
    it heard (see `write_drums`)."""
    return write_drums(
        timeline,
        groove,
        GM_DRUM_NOTES,
        rng,
        swing=swing,
        tempo_bpm=params.tempo_bpm,
        named_voices=named_voices,
        named_pieces=pieces,
    )


def _track(
    inst: Instrument,
    role: Role,
    notes: list[Note],
    tracks: list[Track],
    timeline: Timeline,
    *,
    is_drum: bool,
) -> Track:
    """The track of a part: its notes cut to the piece's end, named for the instrument (and
    numbered where it already plays)."""
    end = timeline.total_beats
    kept = [
        n.model_copy(update={"duration_beats": min(n.duration_beats, end - n.start_beat)})
        for n in notes
        if n.start_beat < end
    ]
    players = sum(t.instrument == inst.id for t in tracks) + 1
    return Track(
        name=inst.name if players == 1 else f"{inst.name} {players}",
        instrument=inst.id,
        role=role,
        program=inst.gm_program,
        is_drum=is_drum,
        notes=kept,
    )


def beat_keeper(params: MusicalParameters, kb: KnowledgeBase) -> int | None:
    """Index of the part that marks every beat: a tempo the person named is heard as the
    beat, and where no drums or unpitched percussion play, the bass (else the chords)
    keeps it. None when the tempo was not named or a drum part plays; timpani, which
    strike the roots in a pattern of their own, do not keep the beat."""
    specs = params.instrumentation
    if not params.tempo_stated or any(_is_drum_part(kb, s) for s in specs):
        return None
    roles = [s.role for s in specs]
    return next(
        (roles.index(wanted) for wanted in (Role.BASS, Role.CHORDS) if wanted in roles), None
    )


def compose(params: MusicalParameters, plan: StructuralPlan, *, seed: int) -> Score:
    """Write every part of the piece for the requested key, tempo, meter, length and lineup."""
    kb = load_knowledge()
    genre = _genre(kb, params)
    timeline = build_timeline(params, plan)
    scale = key_scale(params.key)
    tonic_pc = pitch_class(params.tonic)
    swing = genre.swing
    tracks: list[Track] = []
    drummers = _drummers(kb, genre, params)
    keeper = beat_keeper(params, kb)
    genre_styles = [c for c in genre.comping if c != "none"] or ["block"]
    chord_parts = 0
    tune: list[Note] | None = None  # the first melody; later melody instruments partner it
    bass_line: list[Note] | None = None  # the first bass line; later bass parts double it
    partners = 0
    for index, spec in enumerate(params.instrumentation):
        inst = _instrument(kb, spec.name)
        if index in drummers.inside:
            continue
        rng = np.random.default_rng([seed, index])
        register = (inst.register[0], inst.register[1])
        playing = kb.articulation(spec.descriptor)
        role = spec.role
        notes: list[Note]
        is_drum = _is_drum_part(kb, spec)
        groove = drummers.groove if index == drummers.kit_index else None
        if groove is not None and drummers.implied_kit is not None:
            kit = _kit_part(timeline, groove, drummers.named_voices, rng, swing, params)
            tracks.append(_track(drummers.implied_kit, role, kit, tracks, timeline, is_drum=True))
        if index in drummers.alone:
            voices = drummers.piece_voices[index]
            source = drummers.piece_source(voices)
            notes = _piece_part(kb, genre, params, timeline, voices, rng, swing, kit_groove=source)
        elif groove is not None:
            pieces = drummers.inside_voices
            notes = _kit_part(
                timeline, groove, drummers.named_voices, rng, swing, params, pieces=pieces
            )
        elif (
            role == Role.PERCUSSION
            and inst.voices
            and set(inst.voices) <= set(SHAKER_AND_TAMBOURINE)
        ):
            notes = write_percussion(
                timeline,
                GM_DRUM_NOTES,
                rng,
                swing=swing,
                tempo_bpm=params.tempo_bpm,
                voices=inst.voices,
            )
        elif role == Role.PERCUSSION and inst.voices:
            notes = _piece_part(kb, genre, params, timeline, _piece_voices(kb, spec), rng, swing)
        elif role == Role.PERCUSSION:
            notes = write_pitched_percussion(
                timeline,
                _percussion_groove(kb, genre, params.time_signature, ("tom_low",)),
                register,
                rng,
                tempo_bpm=params.tempo_bpm,
            )
        elif role == Role.BASS and bass_line is not None:
            notes = _doubled(bass_line, register)
        elif role == Role.BASS:
            bass_groove = _bass_groove(kb, genre, params.time_signature, playing.bass_groove)
            keeps_beat = index == keeper
            if keeps_beat and not marks_every_beat(bass_groove, timeline.beats_per_bar):
                bass_groove = beat_bass(timeline.beats_per_bar, params.time_signature)
            notes = write_bass(
                timeline,
                bass_groove,
                register,
                scale,
                rng,
                swing=swing,
                tonic_pc=tonic_pc,
                keep_pulse=keeps_beat,
            )
            bass_line = notes
        elif role == Role.LEAD and playing.style == "arpeggio":
            notes = write_arp(timeline, register, rng)
        elif role == Role.LEAD and tune is not None:
            partners += 1
            notes = write_partner(timeline, tune, register, scale, voice=partners)
        elif role == Role.LEAD:
            notes = tune = write_melody(timeline, register, scale, tonic_pc, rng)
        elif role == Role.PAD:
            notes = write_comping(timeline, register, playing.style or "pad", rng, base_velocity=70)
        elif role == Role.ARP:
            notes = write_arp(timeline, register, rng)
        elif role == Role.TEXTURE:
            notes = write_texture(timeline, register, tonic_pc)
        else:
            # A second chord part takes the genre's next style, so two parts in one range
            # do not double each other (a viola broken, a piano in block chords).
            style: str = playing.style or genre_styles[chord_parts % len(genre_styles)]
            chord_parts += 1
            notes = write_comping(
                timeline,
                register,
                style,
                rng,
                power_chords=inst.timbre in POWER_CHORD_TIMBRES,
                on_beats=index == keeper,
            )
        if playing.octave and not is_drum:
            notes = _shift_octave(notes, playing.octave, register)
        tracks.append(_track(inst, role, notes, tracks, timeline, is_drum=is_drum))
    return Score(
        tempo_bpm=params.tempo_bpm,
        time_signature=params.time_signature,
        key=params.key,
        total_beats=timeline.total_beats,
        sections=[
            ScoreSection(
                name=s.name, start_bar=s.start_bar, end_bar=s.end_bar, energy_level=s.energy
            )
            for s in timeline.sections
        ],
        chords=[
            ChordEvent(
                symbol=symbol,
                start_beat=timeline.bar_start(bar),
                duration_beats=timeline.bar_length(bar),
            )
            for bar, symbol in enumerate(timeline.chords)
        ],
        tracks=tracks,
    )
