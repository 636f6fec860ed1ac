"""The roman-numeral syntax the progressions table is written in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundstar.knowledge.numerals import check_numeral
from soundstar.theory import numeral_to_chord

_UPPER = ["I", "II", "III", "IV", "V", "VI", "VII"]
_SUFFIXES_BOTH = ["", "7", "maj7", "6", "9", "sus2", "sus4", "o7", "add9"]


@given(
    accidental=st.sampled_from(["", "b", "#"]),
    degree=st.sampled_from(_UPPER),
    upper=st.booleans(),
    suffix=st.sampled_from(_SUFFIXES_BOTH),
)
def test_valid_numerals_pass_and_spell_a_chord(
    accidental: str, degree: str, upper: bool, suffix: str
) -> None:
    numeral = accidental + (degree if upper else degree.lower()) + suffix
    assert check_numeral(numeral) == numeral
    assert numeral_to_chord(numeral, "C major")


@pytest.mark.parametrize("numeral", ["iiø7", "viio", "V+", "bVII", "#iv", "IVadd9"])
def test_special_suffixes(numeral: str) -> None:
    assert check_numeral(numeral) == numeral
    assert numeral_to_chord(numeral, "C major")


@pytest.mark.parametrize("numeral", ["VIII", "Vb9", "IIø7", "Vo", "i+", "", "x", "V/V", "bbVI"])
def test_invalid_numerals_are_refused(numeral: str) -> None:
    with pytest.raises(ValueError):
        check_numeral(numeral)
