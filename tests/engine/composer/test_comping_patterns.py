"""Comping patterns are data, checked when read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from soundstar.engine.composer.comping import CompingPatterns, comping_patterns
from soundstar.knowledge.vocab import COMPING_STYLES


def test_the_shipped_patterns_name_known_styles_and_fit_a_bar() -> None:
    patterns = comping_patterns()
    assert set(patterns.patterns_4_4) <= set(COMPING_STYLES)
    assert patterns.patterns_4_4["block"] == ((0.0, 1.9), (2.0, 1.9))
    assert "strum" in patterns.every_beat_when_slow


@pytest.mark.parametrize(
    "data",
    [
        {"patterns_4_4": {"block": [[3.5, 1.0]]}, "every_beat_when_slow": []},
        {"patterns_4_4": {"waltz": [[0.0, 1.0]]}, "every_beat_when_slow": []},
        {"patterns_4_4": {"block": [[0.0, 0.0]]}, "every_beat_when_slow": []},
        {"patterns_4_4": {}, "every_beat_when_slow": ["ragtime"]},
    ],
)
def test_a_pattern_outside_the_bar_or_of_an_unknown_style_is_refused(
    data: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        CompingPatterns.model_validate(data)
