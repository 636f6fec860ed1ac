"""A keyboard played with both hands plays the generic chord styles as a keyboard player does:
the left hand's bass under the right hand's chord, spread over the keyboard; a guitar given the
same style strikes its chords as written."""

from __future__ import annotations

from collections import defaultdict

import pytest
from pydantic import ValidationError

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.composer.arrange import arrange
from soundstar.engine.composer.comping import CompingPatterns, comping_patterns, two_handed
from soundstar.knowledge import load_knowledge
from soundstar.models import Score, Track
from soundstar.theory import parse_chord


def _score(prompt: str) -> Score:
    u = Aurora().understand(prompt, duration_seconds=30.0)
    return compose(u.parameters, u.plan, seed=0)


def _track(score: Score, instrument: str) -> Track:
    return next(t for t in score.tracks if t.instrument == instrument)


def test_the_keyboards_and_only_they_play_with_two_hands() -> None:
    kb = load_knowledge()
    assert kb.instruments["piano"].hands == 2
    assert kb.instruments["rhodes"].hands == 2
    assert kb.instruments["acoustic_guitar"].hands == 1
    assert all(i.family == "keys" for i in kb.instruments.values() if i.hands == 2)


def test_a_two_handed_keyboard_turns_a_pattern_style_into_its_idiom() -> None:
    assert two_handed("block") == "piano_broken"
    assert two_handed("strum") == "piano_comp"
    assert two_handed("stabs") == "stabs"  # a house piano's stabs are played as written


def test_a_ballad_piano_plays_a_left_hand_under_a_broken_right_hand() -> None:
    score = _score("a slow piano ballad in D minor")
    piano = _track(score, "piano")
    body = [n for n in piano.notes if n.start_beat < score.chords[-1].start_beat]
    by_onset: dict[float, list[int]] = defaultdict(list)
    for n in body:
        by_onset[round(n.start_beat, 3)].append(n.pitch)
    # broken: mostly one right-hand note at a time, not a chord struck on every beat
    assert sum(len(p) <= 2 for p in by_onset.values()) >= 0.8 * len(by_onset)
    # two hands: the keyboard's span is wider than one hand's, the left hand on the chord's bass
    assert max(n.pitch for n in body) - min(n.pitch for n in body) >= 19
    for chord in score.chords[:-1]:
        first = [n for n in body if abs(n.start_beat - chord.start_beat) < 1e-6]
        lowest = min(first, key=lambda n: n.pitch)
        assert lowest.pitch % 12 == parse_chord(chord.symbol).bass_pc


def test_a_guitar_on_the_same_style_keeps_striking_chords() -> None:
    u = Aurora().understand("a slow ballad with acoustic guitar in D minor", duration_seconds=30.0)
    parts = {p.instrument: p for p in arrange(u.parameters, load_knowledge())}
    assert parts["acoustic_guitar"].style in {"broken", "block", "arpeggio"}
    assert parts["acoustic_guitar"].style != "piano_broken"


def test_a_style_the_person_asked_for_is_played_as_asked() -> None:
    u = Aurora().understand("a ballad with staccato piano chords", duration_seconds=30.0)
    parts = [p for p in arrange(u.parameters, load_knowledge()) if p.instrument == "piano"]
    assert parts and parts[0].style == "stabs"


def test_a_jazz_pianist_comps_the_charleston() -> None:
    score = _score("medium swing jazz with piano, upright bass and brushes")
    piano = _track(score, "piano")
    onsets = {round(n.start_beat % 4, 3) for n in piano.notes if n.start_beat < 16}
    assert onsets == {0.0, 1.5}


@pytest.mark.parametrize(
    "bad", [{"stabs": "palm_mute"}, {"block": "no_such"}, {"roll": "piano_comp"}]
)
def test_two_hands_must_map_a_pattern_style_to_a_keyboard_idiom(bad: dict[str, str]) -> None:
    data = comping_patterns().model_dump()
    with pytest.raises(ValidationError):
        CompingPatterns.model_validate({**data, "two_hands": bad})


def test_the_valence_moves_a_figure_s_voicing_as_it_moves_a_pattern_s() -> None:
    from soundstar.engine.composer.figures import figure_voicing

    figure = comping_patterns().figures["piano_broken"]
    dark = figure_voicing(figure, "Am", None, 36, 96, shift=-5)
    plain = figure_voicing(figure, "Am", None, 36, 96)
    bright = figure_voicing(figure, "Am", None, 36, 96, shift=4)
    assert sum(dark) < sum(plain) < sum(bright)
    assert min(dark) >= 55 - 5 and max(bright) <= 84 + 4


@pytest.mark.parametrize(
    "prompt", ["a solo piano piece, gentle and reflective", "jazz piano trio, medium swing"]
)
def test_a_keyboard_with_no_tune_above_it_plays_the_tune_with_its_right_hand(prompt: str) -> None:
    score = _score(prompt)
    left = next(t for t in score.tracks if t.instrument == "piano" and t.role.value == "chords")
    right = next(t for t in score.tracks if t.instrument == "piano" and t.role.value == "lead")
    assert right.name == f"{left.name} right hand" and right.program == left.program
    assert len(right.notes) >= 8
    body = [n.pitch for n in left.notes if n.start_beat < score.chords[-1].start_beat]
    assert (
        sorted(body)[len(body) // 2] < sorted(n.pitch for n in right.notes)[len(right.notes) // 2]
    )
    assert max(body) <= 67 + 5  # the left hand's accompaniment stays about middle C


@pytest.mark.parametrize(
    "prompt", ["a piano and cello duet", "solo piano, no melody", "a piano ballad"]
)
def test_no_right_hand_tune_where_another_part_sings_or_none_was_wanted(prompt: str) -> None:
    score = _score(prompt)
    pianos = [t for t in score.tracks if t.instrument == "piano"]
    assert len(pianos) == 1
