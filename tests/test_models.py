"""JSON round trips of the shared contracts, and the rules they enforce."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from soundstar.models import (
    ChordEvent,
    ChordProgression,
    ControlEmbedding,
    EnergyValue,
    GenerationResult,
    GenerationStatus,
    InstrumentMention,
    InstrumentSpec,
    MusicalParameters,
    Note,
    Notice,
    OptionalValueWithConfidence,
    ParsedParameters,
    PlanSection,
    Role,
    Score,
    ScoreSection,
    StructuralPlan,
    TempoValue,
    Track,
    Transition,
    ValueWithConfidence,
)


def _parsed() -> ParsedParameters:
    return ParsedParameters(
        genre=ValueWithConfidence(value="Electronic", confidence=0.9),
        sub_genre=OptionalValueWithConfidence(value="Synthwave", confidence=0.85),
        tempo=TempoValue(type="explicit", bpm=118, confidence=0.95),
        mood=[ValueWithConfidence(value="upbeat", confidence=0.8)],
        instrumentation=[
            InstrumentMention(name="synth_bass", role="bass", confidence=0.9, descriptor="pulsing")
        ],
        structure=ValueWithConfidence(value="verse_chorus", confidence=0.4),
        key_signature=OptionalValueWithConfidence(value="A minor", confidence=0.95),
        time_signature=ValueWithConfidence(value="4/4", confidence=0.5),
        energy_level=EnergyValue(value=0.7, confidence=0.8),
        reference_artists=[],
    )


def _params() -> MusicalParameters:
    return MusicalParameters(
        genre="Electronic",
        sub_genre="Synthwave",
        tempo_bpm=118,
        key="A minor",
        instrumentation=[InstrumentSpec(name="synth_bass", role=Role.BASS)],
    )


def _plan() -> StructuralPlan:
    return StructuralPlan(
        structure_type="verse-chorus",
        sections=[
            PlanSection(name="verse", duration_ratio=0.5, energy_level=0.5),
            PlanSection(name="chorus", duration_ratio=0.5, energy_level=0.8),
        ],
        transitions=[Transition(**{"from": "verse", "to": "chorus", "type": "build"})],
        chord_progression=ChordProgression(key="A", mode="minor", chords=["Am", "F", "C", "G"]),
    )


def _score() -> Score:
    return Score(
        tempo_bpm=118,
        time_signature="4/4",
        key="A minor",
        total_beats=16,
        sections=[ScoreSection(name="verse", start_bar=0, end_bar=4, energy_level=0.5)],
        chords=[ChordEvent(symbol="Am", start_beat=0, duration_beats=4)],
        tracks=[
            Track(
                name="Bass",
                instrument="synth_bass",
                role=Role.BASS,
                program=38,
                notes=[Note(pitch=45, start_beat=0, duration_beats=1, velocity=100)],
            )
        ],
    )


@pytest.mark.parametrize(
    "model",
    [
        _parsed(),
        _params(),
        _plan(),
        _score(),
        ControlEmbedding(unified=[0.0] * 640, guidance=[0.1] * 512, control=[0.2] * 512),
        GenerationResult(
            id="x",
            status=GenerationStatus.COMPLETED,
            prompt="p",
            parameters=_params(),
            plan=_plan(),
            notices=[Notice(level="info", message="m")],
        ),
    ],
    ids=lambda m: type(m).__name__,
)
def test_json_round_trip_gives_an_equal_model(model: object) -> None:
    cls = type(model)
    text = model.model_dump_json(by_alias=True)  # type: ignore[attr-defined]
    assert cls.model_validate_json(text) == model  # type: ignore[attr-defined]


def test_transition_serializes_from_as_the_spec_names_it() -> None:
    data = _plan().model_dump(mode="json", by_alias=True)
    assert data["transitions"][0]["from"] == "verse"


def test_plan_ratios_must_sum_to_one() -> None:
    with pytest.raises(ValidationError, match="sum to 1"):
        StructuralPlan(
            structure_type="x",
            sections=[PlanSection(name="a", duration_ratio=0.5, energy_level=0.5)],
            chord_progression=ChordProgression(key="C", mode="major", chords=["C"]),
        )


@pytest.mark.parametrize("key", ["H minor", "A", "A minorish", "a minor"])
def test_malformed_keys_are_rejected(key: str) -> None:
    with pytest.raises(ValidationError):
        MusicalParameters(
            genre="pop",
            tempo_bpm=120,
            key=key,
            instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
        )


@pytest.mark.parametrize("meter", ["4/3", "0/4", "four", "4/4/4"])
def test_malformed_meters_are_rejected(meter: str) -> None:
    with pytest.raises(ValidationError):
        MusicalParameters(
            genre="pop",
            tempo_bpm=120,
            time_signature=meter,
            instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
        )


@given(bpm=st.floats(allow_nan=False, allow_infinity=False))
def test_tempo_outside_40_to_240_is_rejected(bpm: float) -> None:
    def make():
        return MusicalParameters(
            genre="pop",
            tempo_bpm=bpm,
            instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
        )

    if 40 <= bpm <= 240:
        assert make().tempo_bpm == bpm
    else:
        with pytest.raises(ValidationError):
            make()


def test_embedding_dimensions_are_enforced() -> None:
    with pytest.raises(ValidationError, match="640"):
        ControlEmbedding(unified=[0.0] * 639, guidance=[0.0] * 512, control=[0.0] * 512)


def test_score_duration_follows_tempo() -> None:
    assert _score().duration_seconds == pytest.approx(16 * 60 / 118)


def test_stage_milliseconds_counts_each_stage_once() -> None:
    """The synthesizers' and the EQ's times are parts of `synthesis`, not added to it."""
    from soundstar.models import stage_milliseconds

    timings = {
        "parse": 2.0, "plan": 1.0, "compose": 5.0, "synthesis": 100.0, "ddsp": 60.0,
        "sampler": 30.0, "eq": 10.0, "mix": 50.0, "export": 20.0, "total": 190.0,
    }  # fmt: skip
    assert stage_milliseconds(timings) == (190.0, 3.0, 175.0)
    del timings["total"]
    assert stage_milliseconds(timings)[0] == 178.0


# --------------------------------------------------------------------------- glides


@given(
    duration=st.floats(min_value=0.01, max_value=16.0),
    glide=st.floats(min_value=0.0, max_value=20.0),
    glide_from=st.one_of(st.none(), st.integers(min_value=0, max_value=127)),
)
def test_a_note_glides_with_both_fields_or_neither(
    duration: float, glide: float, glide_from: int | None
) -> None:
    fields = {"pitch": 40, "start_beat": 0.0, "duration_beats": duration, "velocity": 90}
    valid = glide == 0.0 if glide_from is None else 0.0 < glide <= duration
    if valid:
        note = Note(**fields, glide_from=glide_from, glide_beats=glide)
        assert Note.model_validate_json(note.model_dump_json()) == note
    else:
        with pytest.raises(ValidationError, match="glide"):
            Note(**fields, glide_from=glide_from, glide_beats=glide)


def test_a_note_that_does_not_glide_serialises_as_before() -> None:
    note = Note(pitch=36, start_beat=1.0, duration_beats=2.0, velocity=100)
    assert note.model_dump() == {
        "pitch": 36,
        "start_beat": 1.0,
        "duration_beats": 2.0,
        "velocity": 100,
    }
    gliding = Note(
        pitch=48, start_beat=1.0, duration_beats=2.0, velocity=100, glide_from=36, glide_beats=0.5
    )
    assert gliding.model_dump()["glide_from"] == 36
    assert gliding.glide_semitones == -12.0


def test_moving_or_cutting_a_gliding_note_keeps_its_glide_whole() -> None:
    note = Note(
        pitch=48, start_beat=0.0, duration_beats=2.0, velocity=100, glide_from=36, glide_beats=0.5
    )
    assert note.moved_to(36).glide_from == 24
    cut = note.retimed(duration_beats=0.25)
    assert cut.glide_beats == 0.25
    assert Note.model_validate(cut.model_dump()) == cut
    struck = note.retimed(start_beat=1.0, glide=False)
    assert struck.glide_from is None and struck.glide_beats == 0.0
