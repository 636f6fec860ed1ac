"""Controls set by name (`--set NAME=VALUE`): each name and value read, bad ones refused
with the control's range named, and nothing changed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.rules.plan import plan_rules
from soundstar.controls import (
    CONTROLS,
    apply_to_parameters,
    apply_to_plan,
    check_parameter_fields,
    overrides_from_json,
    parse_override,
    parse_overrides,
)
from soundstar.errors import ParameterError
from soundstar.models import InstrumentSpec, MusicalParameters, Role


def _params(**update: object) -> MusicalParameters:
    base = MusicalParameters(
        genre="Pop",
        tempo_bpm=110,
        key="C major",
        instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
        duration_seconds=40,
    )
    return base.model_copy(update=update)


def test_each_parameter_control_sets_its_field() -> None:
    params = apply_to_parameters(
        _params(),
        parse_overrides(
            [
                "tempo_bpm=92.5",
                "key=F# minor",
                "time_signature=3/4",
                "energy_level=0.9",
                "valence=0.1",
                "danceability=0.8",
                "genre=jazz",
                "mood=sad, calm",
                "instruments=piano,electric bass",
                "duration_seconds=12",
            ]
        ),
    )
    assert params.tempo_bpm == 92.5 and params.tempo_stated
    assert params.key == "F# minor"
    assert params.time_signature == "3/4"
    assert (params.energy_level, params.valence, params.danceability) == (0.9, 0.1, 0.8)
    assert params.genre.lower() == "jazz"
    assert params.mood == ["sad", "calm"]
    assert [i.name for i in params.instrumentation] == ["piano", "electric_bass"]
    assert params.instrumentation[1].role == Role.BASS
    assert params.duration_seconds == 12


def test_a_later_setting_of_the_same_control_wins() -> None:
    params = apply_to_parameters(_params(), parse_overrides(["valence=0.2", "valence=0.7"]))
    assert params.valence == 0.7


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tempo_bpm=300", "from 40 to 240"),
        ("tempo_bpm=fast", "beats per minute"),
        ("valence=1.5", "from 0 to 1"),
        ("danceability=nan", "from 0 to 1"),
        ("energy_level=-0.1", "from 0 to 1"),
        ("key=H major", "a key like"),
        ("key=C bebop", "a key like"),
        ("time_signature=4", "a meter like"),
        ("genre=not-a-genre-at-all", "a genre"),
        ("mood=happy,zzzz", "moods"),
        ("instruments=piano,kazooblaster", "instruments"),
        ("instruments=,", "instruments"),
        ("duration_seconds=2", "seconds from 5 to 600"),
    ],
)
def test_a_bad_value_names_the_control_and_its_range(text: str, needle: str) -> None:
    before = _params()
    with pytest.raises(ParameterError) as caught:
        apply_to_parameters(before, [parse_override(text)])
    name = text.split("=")[0]
    assert caught.value.message.startswith(f"--set {name}:")
    assert needle in caught.value.message
    assert before == _params()


@pytest.mark.parametrize(
    "text", ["loudness=3", "tempo=120", "sections.chorus=0.5", "=1", "valence"]
)
def test_an_unknown_name_or_shape_lists_the_names(text: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_override(text)
    assert "tempo_bpm" in caught.value.message and "sections.NAME.energy" in caught.value.message


def test_section_energy_by_name_sets_every_section_of_that_name() -> None:
    plan = plan_rules(_params(section_names=["verse", "chorus", "verse", "chorus"]))
    changed = apply_to_plan(plan, parse_overrides(["sections.chorus.energy=0.95"]))
    for before, after in zip(plan.sections, changed.sections, strict=True):
        expected = 0.95 if before.name.startswith("chorus") else before.energy_level
        assert after.energy_level == expected
        assert (after.name, after.duration_ratio) == (before.name, before.duration_ratio)


def test_section_energy_by_number_counts_from_one() -> None:
    plan = plan_rules(_params())
    changed = apply_to_plan(plan, parse_overrides(["sections.1.energy=0.05"]))
    assert changed.sections[0].energy_level == 0.05
    assert changed.sections[1:] == plan.sections[1:]


@pytest.mark.parametrize(
    ("text", "needle"),
    [("sections.99.energy=0.5", "no section '99'"), ("sections.chorus.energy=2", "from 0 to 1")],
)
def test_a_bad_section_control_is_refused_naming_the_sections(text: str, needle: str) -> None:
    plan = plan_rules(_params())
    with pytest.raises(ParameterError) as caught:
        apply_to_plan(plan, [parse_override(text)])
    assert needle in caught.value.message


def test_every_control_has_a_range_to_name() -> None:
    assert all(CONTROLS.values())


@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=60, deadline=None)
def test_a_unit_control_accepts_exactly_the_numbers_from_0_to_1(value: float) -> None:
    try:
        params = apply_to_parameters(_params(), [parse_override(f"valence={value!r}")])
    except ParameterError:
        assert not 0.0 <= value <= 1.0
    else:
        assert params.valence == value


_NUMERIC = ["tempo_bpm", "energy_level", "valence", "danceability", "duration_seconds"]


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(_NUMERIC),
    value=st.floats(min_value=-1e3, max_value=1e3)
    | st.integers(-1000, 1000)
    | st.just(float("nan")),
)
def test_a_control_sent_as_json_reads_as_the_same_set_does(name: str, value: float) -> None:
    """`{"NAME": VALUE}` in a request and `--set NAME=VALUE` give the same parameters, or
    the same refusal, named as each was given."""
    as_set = [parse_override(f"{name}={value!r}")]
    as_json = overrides_from_json({name: value}, "controls")
    try:
        expected = apply_to_parameters(_params(), as_set)
    except ParameterError as refused:
        with pytest.raises(ParameterError) as caught:
            apply_to_parameters(_params(), as_json)
        assert caught.value.message == refused.message.replace(f"--set {name}", f"controls.{name}")
        assert caught.value.field == f"controls.{name}"
        with pytest.raises(ParameterError) as in_parameters:
            check_parameter_fields({name: value}, "parameters")
        assert in_parameters.value.field == f"parameters.{name}"
        return
    assert apply_to_parameters(_params(), as_json) == expected
    check_parameter_fields({name: value}, "parameters")


def test_json_lists_are_comma_separated_and_names_checked() -> None:
    params = apply_to_parameters(
        _params(), overrides_from_json({"instruments": ["piano", "electric bass"]}, "controls")
    )
    assert [i.name for i in params.instrumentation] == ["piano", "electric_bass"]
    with pytest.raises(ParameterError) as caught:
        overrides_from_json({"loudness": 3}, "controls")
    assert caught.value.field == "controls.loudness"
    assert "tempo_bpm" in caught.value.message
