"""Beats per bar recovered from accented click tracks and from accent patterns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.meter import (
    bar_length_scores,
    beat_accents,
    estimate_beats_per_bar,
    track_beats,
)
from soundstar.errors import ParameterError
from soundstar.theory import parse_chord

SR = 22050


def click_track(
    beats_per_bar: int,
    *,
    bpm: float = 120.0,
    bars: int = 10,
    chords: list[str] | None = None,
    kick: bool = True,
) -> np.ndarray:
    """Clicks on every beat (a short high tone burst); with `kick`, the first beat of each
    bar adds a 60 Hz kick. With `chords`, a sustained triad per bar, cycling through them."""
    beat_s = 60.0 / bpm
    n = int((bars * beats_per_bar + 1) * beat_s * SR)
    out = np.zeros(n)
    hit = int(0.06 * SR)
    t = np.arange(hit) / SR
    click = np.sin(2 * np.pi * 3000 * t) * np.exp(-t / 0.004)
    thump = np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.03)
    for beat in range(bars * beats_per_bar):
        start = int(beat * beat_s * SR)
        out[start : start + hit] += 0.4 * click
        if kick and beat % beats_per_bar == 0:
            out[start : start + hit] += 1.0 * thump
    if chords:
        bar_n = int(beats_per_bar * beat_s * SR)
        tt = np.arange(bar_n) / SR
        for bar in range(bars):
            chord = parse_chord(chords[bar % len(chords)])
            tone = sum(
                np.sin(2 * np.pi * 440.0 * 2 ** ((60 + chord.root_pc + i - 69) / 12) * tt)
                for i in chord.intervals
            )
            out[bar * bar_n : (bar + 1) * bar_n] += 0.1 * tone
    return np.asarray(0.5 * out / np.max(np.abs(out)), dtype=np.float32)


@pytest.mark.parametrize("beats_per_bar", [2, 3, 4])
def test_beats_per_bar_of_an_accented_click_track(beats_per_bar: int) -> None:
    audio = click_track(beats_per_bar)
    estimate = estimate_beats_per_bar(audio, sample_rate=SR, tempo_bpm=120.0)
    assert estimate.beats_per_bar == beats_per_bar, estimate.scores
    intervals = np.diff(estimate.beat_times_s)
    assert np.median(intervals) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("beats_per_bar", [3, 4])
def test_chord_changes_alone_mark_the_bars(beats_per_bar: int) -> None:
    """No kick: every click alike, one chord per bar; the harmony tells the bar line."""
    audio = click_track(beats_per_bar, bpm=100.0, chords=["C", "Am", "F", "G"], kick=False)
    beats = np.arange(beats_per_bar * 10) * 0.6
    estimate = estimate_beats_per_bar(audio, sample_rate=SR, beat_times_s=beats)
    assert estimate.beats_per_bar == beats_per_bar, estimate.scores


def test_beats_are_tracked_and_accents_measured_per_beat() -> None:
    audio = click_track(3, bpm=90.0, chords=["D", "G"])
    beats = track_beats(audio, sample_rate=SR)
    assert np.median(np.diff(beats)) == pytest.approx(60.0 / 90.0, abs=0.03)
    accents = beat_accents(audio, sample_rate=SR, beat_times_s=beats)
    assert set(accents) == {"low", "harmony"}
    assert all(values.shape == beats.shape for values in accents.values())
    with pytest.raises(ParameterError, match="ascending"):
        beat_accents(audio, sample_rate=SR, beat_times_s=[2.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(
    length=st.sampled_from([2, 3, 4]),
    phase=st.integers(0, 3),
    bars=st.integers(8, 12),
    others=st.lists(st.floats(0.0, 0.5), min_size=3, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_a_repeating_accent_pattern_gives_its_bar_length(
    length: int, phase: int, bars: int, others: list[float], seed: int
) -> None:
    pattern = np.array([1.0, *others[: length - 1]])
    accents = np.tile(pattern, bars + 1)[phase % length : phase % length + bars * length]
    noisy = accents + np.random.default_rng(seed).uniform(0.0, 0.05, accents.size)
    scores = bar_length_scores({"low": noisy}, weights={"low": 1.0})
    best = max(scores, key=lambda n: (round(scores[n], 9), -n))
    assert best == length, scores


def test_nested_bar_lengths_tie_to_the_shorter_and_few_beats_are_refused() -> None:
    alternating = np.tile([1.0, 0.0], 12)
    scores = bar_length_scores({"low": alternating}, weights={"low": 1.0})
    assert scores[2] > scores[4] > scores[3]
    with pytest.raises(ParameterError, match="too few"):
        bar_length_scores({"low": np.ones(10)}, weights={"low": 1.0})
    with pytest.raises(ParameterError, match="one value per beat"):
        bar_length_scores({"low": np.ones(20), "harmony": np.ones(21)})
