"""Every part accents the meter that was asked for: 3/4 in three quarters, 6/8 in two
dotted quarters, and arpeggio figures that repeat on the beat."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.engine.composer.bass_part import basic_bass
from soundstar.engine.composer.comping import write_arp, write_comping
from soundstar.engine.composer.drums_part import shaker_groove, write_hand_percussion
from soundstar.engine.composer.melody import make_motif, write_melody
from soundstar.engine.composer.pulse import Pulse
from soundstar.engine.composer.timeline import SectionSpan, Timeline
from soundstar.models import Note

_GM = {"shaker": 70, "tambourine": 54}


def _timeline(meter: str, *, tempo: float = 120.0, energy: float = 0.8) -> Timeline:
    bar = Pulse.of(meter).beats_per_bar
    sections = (SectionSpan(0, "verse", 0, 8, energy),)
    chords = ("C", "F", "G", "C") * 2
    return Timeline(bar, 8, 8 * bar, sections, chords, None, True, tempo, meter)


def _shaker_and_tambourine(meter: str) -> list[Note]:
    """A shaker and a tambourine (one percussionist) through a lively piece in `meter`."""
    groove = shaker_groove(meter, fast=False)
    timeline = _timeline(meter)
    rng = np.random.default_rng(0)
    return write_hand_percussion(timeline, groove, ("shaker", "tambourine"), _GM, rng, swing=0.0)


def _in_bar(note: Note, bar: float) -> float:
    return round(note.start_beat % bar, 6)


@pytest.mark.parametrize(
    ("meter", "beat", "onsets", "strong"),
    [
        ("4/4", 1.0, [0.0, 1.0, 2.0, 3.0], [0.0, 2.0]),
        ("3/4", 1.0, [0.0, 1.0, 2.0], [0.0]),
        ("6/8", 1.5, [0.0, 1.5], [0.0, 1.5]),
        ("12/8", 1.5, [0.0, 1.5, 3.0, 4.5], [0.0, 3.0]),
        ("9/8", 1.5, [0.0, 1.5, 3.0], [0.0]),
        ("2/4", 1.0, [0.0, 1.0], [0.0, 1.0]),
        ("7/8", 1.0, [0.0, 1.0, 2.0, 3.0], [0.0]),
    ],
)
def test_the_felt_beats_and_strong_beats_of_each_meter(
    meter: str, beat: float, onsets: list[float], strong: list[float]
) -> None:
    pulse = Pulse.of(meter)
    assert pulse.beat == beat
    assert pulse.onsets() == onsets
    grid = [k * 0.5 for k in range(round(pulse.beats_per_bar * 2))]
    assert [t for t in grid if pulse.is_strong(t)] == strong
    assert [t for t in grid if pulse.on_beat(t)] == onsets


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), meter=st.sampled_from(["3/4", "6/8", "4/4", "12/8"]))
def test_motif_onsets_fall_on_the_eighth_grid_of_the_bar(seed: int, meter: str) -> None:
    pulse = Pulse.of(meter)
    motif = make_motif(np.random.default_rng(seed), pulse, 0.6)
    assert len(motif.rhythm) >= 3
    for onset, duration in motif.rhythm:
        assert (onset * 2).is_integer() and 0.0 <= onset < pulse.beats_per_bar
        assert onset + duration <= pulse.beats_per_bar + 1e-9


def _melody_velocity_by_position(meter: str) -> dict[float, float]:
    """Mean velocity of a melody's notes at each position in the bar, over 12 seeds."""
    timeline = _timeline(meter)
    by_position: dict[float, list[int]] = {}
    for seed in range(12):
        rng = np.random.default_rng(seed)
        notes = write_melody(timeline, (60, 84), (0, 2, 4, 5, 7, 9, 11), 0, rng)
        for note in notes[:-1]:
            by_position.setdefault(_in_bar(note, timeline.beats_per_bar), []).append(note.velocity)
    return {pos: sum(v) / len(v) for pos, v in by_position.items()}


def test_a_melody_in_three_four_does_not_accent_the_middle_of_the_bar() -> None:
    """Beat 1 is the only strong beat of 3/4: the off-beat at 1.5 stays soft (no hemiola)."""
    mean = _melody_velocity_by_position("3/4")
    assert 1.5 in mean, "the test needs notes at the middle of the bar"
    assert mean[0.0] - mean[1.5] > 6.0
    assert mean[1.5] <= max(mean[1.0], mean[2.0]) + 2.0


def test_a_melody_in_six_eight_accents_its_two_dotted_quarter_beats() -> None:
    mean = _melody_velocity_by_position("6/8")
    weak = [mean[p] for p in (0.5, 1.0, 2.0, 2.5) if p in mean]
    assert weak and min(mean[0.0], mean[1.5]) > max(weak)


@pytest.mark.parametrize(("meter", "hits"), [("6/8", [0.0, 1.5]), ("3/4", [0.0, 1.0, 2.0])])
def test_comping_strikes_the_felt_beats(meter: str, hits: list[float]) -> None:
    notes = write_comping(_timeline(meter), (48, 84), "block", np.random.default_rng(0))
    bar = Pulse.of(meter).beats_per_bar
    body = [n for n in notes if n.start_beat < 7 * bar]
    assert sorted({_in_bar(n, bar) for n in body}) == hits


def test_a_strum_in_four_four_marks_the_beat_and_softens_its_upstrokes() -> None:
    """Down on 1, 2 and 4, up between: no gap of a dotted quarter after the downbeat, which
    would be heard as a pulse against the meter."""
    notes = write_comping(_timeline("4/4"), (48, 84), "strum", np.random.default_rng(0))
    body = [n for n in notes if n.start_beat < 28.0]
    strokes: dict[float, list[int]] = {}
    for note in body:  # a strum spreads a chord's notes over a few hundredths of a beat
        stroke = round(note.start_beat * 2) / 2 % 4.0
        strokes.setdefault(stroke, []).append(note.velocity)
    assert {0.0, 1.0, 3.0} <= set(strokes)
    gaps = np.diff([*sorted(strokes), 4.0])
    assert gaps.max() <= 1.0
    mean = {at: sum(v) / len(v) for at, v in strokes.items()}
    assert max(mean[at] for at in mean if at % 1.0) < min(mean[at] for at in mean if not at % 1.0)


@pytest.mark.parametrize(
    ("meter", "beats"),
    [("4/4", {1.0, 3.0}), ("3/4", {1.0, 2.0}), ("6/8", {1.5}), ("9/8", {1.5, 3.0})],
)
def test_the_tambourine_plays_the_backbeat_of_each_meter(meter: str, beats: set[float]) -> None:
    """2 and 4; in a bar of three beats 2 and 3, the waltz's "oom-pah-pah" (a hit on 2
    alone is heard as a pulse a beat and a half long)."""
    notes = _shaker_and_tambourine(meter)
    bar = Pulse.of(meter).beats_per_bar
    assert {_in_bar(n, bar) for n in notes if n.pitch == _GM["tambourine"]} == beats


def test_percussion_in_six_eight_accents_the_dotted_quarters() -> None:
    notes = _shaker_and_tambourine("6/8")
    tambourine = {_in_bar(n, 3.0) for n in notes if n.pitch == _GM["tambourine"]}
    assert tambourine == {1.5}
    shaker: dict[float, list[int]] = {}
    for n in notes:
        if n.pitch == _GM["shaker"]:
            shaker.setdefault(_in_bar(n, 3.0), []).append(n.velocity)
    mean = {pos: sum(v) / len(v) for pos, v in shaker.items()}
    assert min(mean[0.0], mean[1.5]) > max(mean[p] for p in (0.5, 1.0, 2.0, 2.5))


@pytest.mark.parametrize(
    ("meter", "step", "period"),
    [("4/4", 0.25, 2.0), ("4/4", 0.5, 2.0), ("3/4", 0.5, 3.0), ("6/8", 0.5, 3.0)],
)
def test_an_arpeggio_figure_repeats_on_the_beat(meter: str, step: float, period: float) -> None:
    """A six-note figure of sixteenths in 4/4 would repeat every 1.5 beats, a dotted-quarter
    pulse against the meter; the figure spans whole beats instead."""
    energy = 0.8 if step == 0.25 else 0.4
    notes = write_arp(_timeline(meter, energy=energy), (55, 84), np.random.default_rng(0))
    bar = Pulse.of(meter).beats_per_bar
    first = sorted((n for n in notes if n.start_beat < bar), key=lambda n: n.start_beat)
    pitches = [n.pitch for n in first]
    per_period = round(period / step)
    assert len(pitches) == round(bar / step)
    assert pitches[:per_period] != pitches[: per_period // 2] * 2 or per_period == 1
    for i in range(per_period, len(pitches)):
        assert pitches[i] == pitches[i - per_period]
    third_of_period = round(1.5 / step)
    if meter == "4/4":
        assert any(
            pitches[i] != pitches[i - third_of_period] for i in range(third_of_period, len(pitches))
        )


@pytest.mark.parametrize(
    ("bar", "numerator", "pattern"),
    [(4.0, 4, "R---5..."), (3.0, 3, "R---5."), (5.0, 5, "R-----5..."), (2.0, 2, "R-5.")],
)
def test_the_basic_bass_puts_its_fifth_on_a_beat(bar: float, numerator: int, pattern: str) -> None:
    assert basic_bass(bar, numerator).pattern == pattern
