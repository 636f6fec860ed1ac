"""Keys, chord symbols and roman numerals."""

from __future__ import annotations

import pytest

from soundstar.errors import ParameterError
from soundstar.theory import (
    dominant_chord,
    numeral_to_chord,
    parse_chord,
    pitch_class,
    scale_pitch_classes,
    tonic_chord,
)


@pytest.mark.parametrize(
    ("name", "pc"), [("C", 0), ("C#", 1), ("Db", 1), ("Cb", 11), ("E#", 5), ("Bb", 10), ("F♯", 6)]
)
def test_pitch_class(name: str, pc: int) -> None:
    assert pitch_class(name) == pc


def test_a_minor_scale_is_the_white_keys_from_a() -> None:
    assert scale_pitch_classes("A", "minor") == (9, 11, 0, 2, 4, 5, 7)


@pytest.mark.parametrize(
    ("symbol", "pcs"),
    [
        ("Am", {9, 0, 4}),
        ("F", {5, 9, 0}),
        ("Bbmaj7", {10, 2, 5, 9}),
        ("F#m7b5", {6, 9, 0, 4}),
        ("G7", {7, 11, 2, 5}),
        ("Csus4", {0, 5, 7}),
        ("Edim", {4, 7, 10}),
    ],
)
def test_chord_symbols_give_their_pitch_classes(symbol: str, pcs: set[int]) -> None:
    assert set(parse_chord(symbol).pitch_classes) == pcs


def test_slash_chord_keeps_its_bass() -> None:
    chord = parse_chord("C/E")
    assert chord.bass_pc == 4 and chord.root_pc == 0


@pytest.mark.parametrize("bad", ["H", "Cxyz", "", "Am7/Q"])
def test_bad_chord_symbols_raise(bad: str) -> None:
    with pytest.raises(ParameterError):
        parse_chord(bad)


def test_knowledge_base_numerals_read_on_the_major_scale() -> None:
    chords = [numeral_to_chord(n, "A minor") for n in ["i", "bVI", "bIII", "bVII"]]
    assert chords == ["Am", "F", "C", "G"]


def test_people_write_minor_numerals_on_the_minor_scale() -> None:
    chords = [numeral_to_chord(n, "A minor", relative_to="mode") for n in ["i", "VI", "III", "VII"]]
    assert chords == ["Am", "F", "C", "G"]


def test_two_five_one_in_b_flat_uses_flats() -> None:
    assert [numeral_to_chord(n, "Bb major") for n in ["ii7", "V7", "Imaj7"]] == [
        "Cm7",
        "F7",
        "Bbmaj7",
    ]


def test_home_and_dominant_chords() -> None:
    assert tonic_chord("A minor") == "Am"
    assert dominant_chord("A minor") == "E"
    assert tonic_chord("D dorian") == "Dm"
    assert dominant_chord("G mixolydian") == "F"
