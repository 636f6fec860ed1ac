"""The arrangement, decided before a note is written: tested on the parts alone (fast), and
where it matters on the Score too."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.engine.composer import compose
from soundstar.engine.composer.arrange import Part, PartKind, arrange, beat_keeper
from soundstar.engine.drums import GM_DRUM_NOTES
from soundstar.knowledge import Instrument, load_knowledge
from soundstar.knowledge.exclusion import excludes
from soundstar.models import (
    ChordProgression,
    Exclusions,
    InstrumentSpec,
    MusicalParameters,
    PlanSection,
    Role,
    StructuralPlan,
)

KB = load_knowledge()
_INSTRUMENTS = sorted(KB.instruments)
_PERCUSSIVE = sorted(i.id for i in KB.instruments.values() if i.plays != "melodic")
_GENRES = sorted(KB.genres)
_FAMILIES = sorted({i.family for i in KB.instruments.values()})


def _params(
    lineup: list[tuple[str, str]],
    *,
    genre: str = "pop",
    exclusions: Exclusions | None = None,
    meter: str = "4/4",
    tempo: float = 120.0,
    tempo_stated: bool = False,
) -> MusicalParameters:
    return MusicalParameters(
        genre=genre,
        tempo_bpm=tempo,
        tempo_stated=tempo_stated,
        time_signature=meter,
        instrumentation=[InstrumentSpec(name=n, role=Role(r)) for n, r in lineup],
        exclusions=exclusions or Exclusions(),
    )


def _plan() -> StructuralPlan:
    return StructuralPlan(
        structure_type="verse-chorus",
        sections=[
            PlanSection(name="verse", duration_ratio=0.5, energy_level=0.4),
            PlanSection(name="chorus", duration_ratio=0.5, energy_level=0.8),
        ],
        chord_progression=ChordProgression(key="C", mode="major", chords=["C", "F", "G", "C"]),
    )


def _kinds(parts: list[Part]) -> list[tuple[str, PartKind]]:
    return [(p.instrument, p.kind) for p in parts]


def test_a_lineup_becomes_one_part_each_of_the_kind_its_instrument_plays() -> None:
    parts = arrange(
        _params(
            [
                ("drum_kit", "drums"),
                ("electric_bass", "bass"),
                ("piano", "chords"),
                ("violin", "lead"),
                ("congas", "percussion"),
                ("shaker", "percussion"),
                ("timpani", "percussion"),
            ]
        ),
        KB,
    )
    assert _kinds(parts) == [
        ("drum_kit", PartKind.KIT),
        ("electric_bass", PartKind.BASS),
        ("piano", PartKind.CHORDS),
        ("violin", PartKind.MELODY),
        ("congas", PartKind.PIECE),
        ("shaker", PartKind.PIECE),
        ("timpani", PartKind.PITCHED_PERCUSSION),
    ]
    assert [p.is_drum for p in parts] == [True, False, False, False, True, True, False]


def test_a_kit_piece_beside_other_instruments_implies_the_style_s_kit_on_its_stream() -> None:
    parts = arrange(_params([("piano", "chords"), ("hi_hat", "drums")], genre="house"), KB)
    kit, piece = parts[1], parts[2]
    assert kit.kind == PartKind.KIT and KB.instruments[kit.instrument].plays == "kit"
    assert piece.kind == PartKind.PIECE and piece.instrument == "hi_hat"
    assert kit.stream == piece.stream == 1
    assert kit.drum_groove is not None
    assert not {"closed_hat", "open_hat"} & set(kit.drum_groove.voices)


@pytest.mark.parametrize(
    "exclusions",
    [
        Exclusions(only=True),
        Exclusions(instruments=["drum_machine"]),  # house is played on a drum machine
        Exclusions(families=["drums"]),
    ],
)
def test_no_kit_is_implied_where_only_the_lineup_plays_or_the_kit_is_left_out(
    exclusions: Exclusions,
) -> None:
    lineup = [("piano", "chords"), ("claps", "drums")]
    parts = arrange(_params(lineup, genre="house", exclusions=exclusions), KB)
    tune = ("piano", PartKind.MELODY)  # no lead: the piano's right hand plays the tune
    if exclusions.families:
        assert _kinds(parts) == [("piano", PartKind.CHORDS), tune]
    else:
        assert _kinds(parts) == [("piano", PartKind.CHORDS), ("claps", PartKind.PIECE), tune]


def test_a_second_bass_doubles_the_first_and_a_second_lead_partners_the_first() -> None:
    parts = arrange(
        _params(
            [
                ("violin", "lead"),
                ("double_bass", "bass"),
                ("flute", "lead"),
                ("cello", "bass"),
                ("violin", "lead"),
            ]
        ),
        KB,
    )
    assert [p.kind for p in parts] == [
        PartKind.MELODY,
        PartKind.BASS,
        PartKind.PARTNER,
        PartKind.DOUBLE,
        PartKind.PARTNER,
    ]
    assert parts[2].follows == 0 and parts[4].follows == 0
    assert [parts[2].partner_voice, parts[4].partner_voice] == [1, 2]
    assert parts[3].follows == 1
    assert [p.track_name for p in parts] == ["Violin", "Double Bass", "Flute", "Cello", "Violin 2"]


def test_a_named_tempo_without_drums_is_kept_by_the_bass_then_the_chords() -> None:
    lineup = [("piano", "chords"), ("electric_bass", "bass")]
    assert beat_keeper(_params(lineup, tempo_stated=True), KB) == 1
    assert beat_keeper(_params(lineup[:1], tempo_stated=True), KB) == 0
    assert beat_keeper(_params(lineup), KB) is None
    with_congas = [*lineup, ("congas", "percussion")]
    assert beat_keeper(_params(with_congas, tempo_stated=True), KB) is None
    with_timpani = [*lineup, ("timpani", "percussion")]
    assert beat_keeper(_params(with_timpani, tempo_stated=True), KB) == 1
    parts = arrange(_params(lineup, tempo_stated=True), KB)
    assert [p.keeps_beat for p in parts] == [False, True, False]  # the right hand's tune last


def test_a_kit_piece_left_out_is_taken_out_of_the_kit_fills_and_endings_included() -> None:
    parts = arrange(
        _params(
            [("drum_kit", "drums"), ("piano", "chords")],
            genre="rock",
            exclusions=Exclusions(instruments=["toms", "cymbals"]),
        ),
        KB,
    )
    kit = parts[0]
    assert kit.drum_groove is not None
    bars = [kit.drum_groove, kit.drum_groove.fill, kit.drum_groove.alternate]
    played = {v for bar in bars if bar is not None for v in bar.voices}
    assert not played & {"tom_low", "tom_mid", "tom_high", "crash", "ride", "ride_bell"}
    assert {"crash", "tom_low"} <= kit.left_out


def _excluded_voices(exclusions: Exclusions) -> set[str]:
    """Drum voices no kit may sound: left-out kit pieces' own, and left-out percussionists'
    that are no kit piece's."""
    kit_voices = {v for i in KB.instruments.values() if i.plays == "kit_piece" for v in i.voices}
    out: set[str] = set()
    for inst in KB.instruments.values():
        if inst.voices and excludes(exclusions, inst, inst.role):
            out |= {v for v in inst.voices if inst.plays == "kit_piece" or v not in kit_voices}
    return out


def _instrument_role(draw: st.DrawFn, pool: list[str]) -> tuple[str, str]:
    inst: Instrument = KB.instruments[draw(st.sampled_from(pool))]
    if inst.plays in ("melodic", "voice"):
        role = draw(st.sampled_from([inst.role, "lead", "chords", "bass", "pad"]))
        return inst.id, role
    return inst.id, inst.role


@st.composite
def _asked(draw: st.DrawFn) -> MusicalParameters:
    lineup = [_instrument_role(draw, _PERCUSSIVE) for _ in range(draw(st.integers(0, 3)))]
    lineup += [_instrument_role(draw, _INSTRUMENTS) for _ in range(draw(st.integers(1, 4)))]
    named = [i for i, _ in lineup]
    exclusions = Exclusions(
        instruments=draw(st.lists(st.sampled_from(named + _PERCUSSIVE), max_size=3)),
        families=draw(st.lists(st.sampled_from(_FAMILIES), max_size=1)),
        roles=draw(st.lists(st.sampled_from(list(Role)), max_size=1)),
        only=draw(st.booleans()),
    )
    return _params(
        lineup,
        genre=draw(st.sampled_from(_GENRES)),
        exclusions=exclusions,
        meter=draw(st.sampled_from(["4/4", "3/4", "6/8", "2/4", "7/8"])),
        tempo=draw(st.sampled_from([60.0, 90.0, 120.0, 170.0])),
        tempo_stated=draw(st.booleans()),
    )


def _allowed(params: MusicalParameters, instrument: str, role: str) -> bool:
    inst = KB.instruments[instrument]
    named = {s.name for s in params.instrumentation}
    if excludes(params.exclusions, inst, role):
        return False
    return not params.exclusions.only or instrument in named


@settings(max_examples=300, deadline=None)
@given(_asked())
def test_no_part_plays_what_was_left_out_and_only_means_only(params: MusicalParameters) -> None:
    left_out = _excluded_voices(params.exclusions)
    for part in arrange(params, KB):
        assert _allowed(params, part.instrument, part.role), part
        if part.kind == PartKind.KIT and part.drum_groove is not None:
            assert not left_out & set(part.drum_groove.voices), part.instrument
            assert left_out <= part.left_out


@settings(max_examples=25, deadline=None)
@given(_asked())
def test_no_track_of_the_score_plays_what_was_left_out(params: MusicalParameters) -> None:
    score = compose(params, _plan(), seed=1)
    silent = {GM_DRUM_NOTES[v] for v in _excluded_voices(params.exclusions)}
    for track in score.tracks:
        assert _allowed(params, track.instrument, track.role), track.instrument
        if KB.instruments[track.instrument].plays == "kit":
            assert not silent & {n.pitch for n in track.notes}, track.instrument
