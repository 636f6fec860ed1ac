"""Long pieces (up to 600 s): the body is played again, developed, so no section stands
still for minutes, and the piece still opens with its opening and closes with its ending."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.rules.plan import LONG_SECTION_S
from soundstar.models import DURATION_MAX_S

PROMPTS = (
    "an upbeat 80s synthwave track with pulsing bass and dreamy pads",
    "calm ambient piano",
    "a rock song with a bridge and a guitar solo",
)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_a_ten_minute_piece_has_more_sections_none_too_long_and_a_real_ending(
    prompt: str,
) -> None:
    aurora = Aurora()
    short = aurora.understand(prompt, duration_seconds=120).plan
    long = aurora.understand(prompt, duration_seconds=DURATION_MAX_S).plan
    assert len(long.sections) > len(short.sections)
    assert long.sections[0].name == short.sections[0].name
    assert long.sections[-1].name == short.sections[-1].name
    slack = 1.2  # sections snap to 4-bar phrases
    assert max(s.duration_ratio for s in long.sections) * DURATION_MAX_S <= LONG_SECTION_S * slack
    assert len({s.name for s in long.sections}) == len(long.sections)
    assert long.sections[-1].energy_level < max(s.energy_level for s in long.sections)


@settings(max_examples=25, deadline=None)
@given(seconds=st.floats(min_value=5.0, max_value=DURATION_MAX_S))
def test_every_duration_is_planned_with_ratios_that_sum_to_one(seconds: float) -> None:
    plan = Aurora().understand(PROMPTS[0], duration_seconds=seconds).plan
    assert abs(sum(s.duration_ratio for s in plan.sections) - 1.0) < 1e-3
