"""The rule planner sizes a plan to its duration: whole bars, at least two a section."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.refit import MIN_SECTION_BARS, bars_in
from soundstar.aurora.rules.plan import plan_rules
from soundstar.engine.composer.timeline import build_timeline
from soundstar.models import InstrumentSpec, MusicalParameters, Role


def _params(tempo: float, meter: str, duration: float, genre: str) -> MusicalParameters:
    return MusicalParameters(
        genre=genre,
        tempo_bpm=tempo,
        time_signature=meter,
        instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
        duration_seconds=duration,
    )


@given(
    tempo=st.floats(min_value=40, max_value=240),
    meter=st.sampled_from(["2/4", "3/4", "4/4", "5/4", "6/8", "7/8", "12/8"]),
    duration=st.floats(min_value=5, max_value=300),
    genre=st.sampled_from(["Pop", "Jazz", "Techno", "Ambient", "Rock", "Folk"]),
)
@settings(max_examples=150, deadline=None)
def test_every_section_is_whole_bars_at_least_two_and_played_as_planned(
    tempo: float, meter: str, duration: float, genre: str
) -> None:
    params = _params(tempo, meter, duration, genre)
    plan = plan_rules(params)
    n_bars = bars_in(params)
    bars = [s.duration_ratio * n_bars for s in plan.sections]
    assert all(abs(b - round(b)) < 1e-6 for b in bars), bars
    assert sum(round(b) for b in bars) == n_bars
    assert len(plan.sections) <= max(1, n_bars // MIN_SECTION_BARS)
    if len(plan.sections) > 1:
        assert min(round(b) for b in bars) >= MIN_SECTION_BARS
    played = build_timeline(params, plan).sections
    assert [(s.name, s.n_bars) for s in played] == [
        (s.name, round(b)) for s, b in zip(plan.sections, bars, strict=True)
    ]


def test_a_fifteen_second_piece_is_not_six_sections() -> None:
    params = _params(120, "4/4", 15, "Pop").model_copy(update={"structure": "verse-chorus"})
    assert len(plan_rules(params).sections) <= bars_in(params) // MIN_SECTION_BARS
