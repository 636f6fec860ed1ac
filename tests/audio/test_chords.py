"""Chord estimation on synthesised chords, and Mustango's chord-match metrics."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.chords import (
    NO_CHORD,
    ChordSegment,
    chord_match,
    chord_overlap,
    chord_scores,
    chord_sequence,
    estimate_chords,
    exact_chord,
    matched_any_order,
    matched_in_order,
    reduce_chord,
)
from soundstar.errors import ParameterError
from soundstar.theory import parse_chord

SR = 22050
ROOTS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def chord_tone(symbol: str, duration_s: float, *, octave: int = 4, seed: int = 0) -> np.ndarray:
    """A chord as sums of sines: each chord tone with six decaying harmonics, a root an
    octave down, a little noise, and short fades."""
    chord = parse_chord(symbol)
    t = np.arange(int(duration_s * SR)) / SR
    tone = np.zeros_like(t)
    pitches = [12 * octave + 12 + chord.root_pc + i for i in chord.intervals]
    pitches.append(12 * (octave - 1) + 12 + chord.bass_pc)
    for midi in pitches:
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        for harmonic in range(1, 7):
            if f0 * harmonic < SR / 2:
                tone += 0.7 ** (harmonic - 1) * np.sin(2 * np.pi * f0 * harmonic * t)
    fade = np.minimum(1.0, np.minimum(t / 0.01, (duration_s - t) / 0.03))
    rng = np.random.default_rng(seed)
    return tone * fade + 0.02 * rng.standard_normal(t.size)


def progression(symbols: list[str], chord_s: float = 1.5) -> np.ndarray:
    audio = np.concatenate([chord_tone(s, chord_s, seed=i) for i, s in enumerate(symbols)])
    return np.asarray(0.3 * audio / np.max(np.abs(audio)), dtype=np.float32)


def drums(duration_s: float, bpm: float = 120.0) -> np.ndarray:
    """Noise bursts on every beat: percussion the estimator must see through."""
    rng = np.random.default_rng(3)
    out = np.zeros(int(duration_s * SR))
    hit = int(0.05 * SR)
    envelope = np.exp(-np.arange(hit) / (0.01 * SR))
    for start in range(0, out.size - hit, int(60.0 / bpm * SR)):
        out[start : start + hit] += rng.standard_normal(hit) * envelope
    return out


# --------------------------------------------------------------------------- estimation


def test_a_progression_of_triads_and_sevenths_is_heard_in_order() -> None:
    asked = ["C", "Am", "F", "G7", "Em", "Bbmaj7", "Dm7", "E"]
    audio = progression(asked)
    segments = estimate_chords(audio, sample_rate=SR)
    heard = chord_sequence(segments)
    assert [reduce_chord(c) for c in heard] == [reduce_chord(c) for c in asked]
    reference = [ChordSegment(1.5 * i, 1.5 * (i + 1), c) for i, c in enumerate(asked)]
    assert chord_overlap(segments, reference) > 0.9
    assert chord_overlap(segments, reference, key=exact_chord) > 0.75
    assert segments[0].start_s == 0.0
    assert segments[-1].end_s == pytest.approx(len(asked) * 1.5, abs=0.1)
    assert all(a.end_s == b.start_s for a, b in pairwise(segments))


def test_chords_are_heard_through_drums_and_at_44_1_khz() -> None:
    asked = ["D", "Bm", "G", "A"]
    audio = progression(asked, chord_s=2.0) + 0.3 * drums(8.0)
    stereo = np.stack([audio, audio]).astype(np.float32)
    resampled = np.interp(np.arange(0, audio.size, SR / 44100), np.arange(audio.size), audio)
    assert chord_sequence(estimate_chords(stereo, sample_rate=SR)) == asked
    heard = chord_sequence(estimate_chords(resampled.astype(np.float32), sample_rate=44100))
    assert [reduce_chord(c) for c in heard] == [reduce_chord(c) for c in asked]


def test_beat_synchronous_chords_change_only_on_beats() -> None:
    asked = ["A", "F#m", "D", "E"]
    audio = progression(asked, chord_s=2.0)
    beats = np.arange(0.5, 8.0, 0.5)
    segments = estimate_chords(audio, sample_rate=SR, beat_times_s=beats)
    assert chord_sequence(segments) == asked
    for segment in segments[1:]:
        assert np.min(np.abs(beats - segment.start_s)) < 0.03
    with pytest.raises(ParameterError, match="ascending"):
        estimate_chords(audio, sample_rate=SR, beat_times_s=[1.0, 0.5])


def test_silence_between_chords_is_no_chord_and_silence_alone_is_refused() -> None:
    gap = np.zeros(int(1.5 * SR), dtype=np.float32)
    audio = np.concatenate([progression(["G"]), gap, progression(["Cm"])])
    segments = estimate_chords(audio, sample_rate=SR)
    assert [s.label for s in segments] == ["G", NO_CHORD, "Cm"]
    assert chord_sequence(segments) == ["G", "Cm"]
    with pytest.raises(ParameterError, match="silent"):
        estimate_chords(np.zeros(SR, dtype=np.float32), sample_rate=SR)


@settings(max_examples=12, deadline=None)
@given(
    root=st.sampled_from(ROOTS), quality=st.sampled_from(["", "m"]), octave=st.sampled_from([3, 4])
)
def test_any_major_or_minor_triad_is_named(root: str, quality: str, octave: int) -> None:
    audio = np.asarray(0.3 * chord_tone(root + quality, 1.5, octave=octave), dtype=np.float32)
    heard = chord_sequence(estimate_chords(audio, sample_rate=SR))
    assert [reduce_chord(c) for c in heard] == [reduce_chord(root + quality)]


def test_chord_scores_refuse_a_malformed_chroma() -> None:
    with pytest.raises(ParameterError, match="12"):
        chord_scores(np.ones((11, 4)))
    labels, scores = chord_scores(np.eye(12)[[0, 4, 7]].sum(axis=0)[:, np.newaxis])
    assert labels[int(np.argmax(scores[:, 0]))] == "C"
    assert labels[-1] == NO_CHORD


# --------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("label", "reduced", "exact"),
    [
        ("C", "C:maj", "C:maj"),
        ("Am", "A:min", "A:m"),
        ("Bbmaj7", "Bb:maj", "Bb:maj7"),
        ("A#maj7", "Bb:maj", "Bb:maj7"),
        ("F#m7b5/E", "F#:min", "F#:m7b5"),
        ("C#7/E#", "C#:maj", "C#:7"),
        ("Gaug", "G:maj", "G:aug"),
        ("Ebdim", "Eb:min", "Eb:dim"),
        ("Dsus4", "D:maj", "D:sus4"),
        ("F/C", "F:maj", "F:maj"),
        ("N", "N", "N"),
    ],
)
def test_labels_reduce_to_root_and_third(label: str, reduced: str, exact: str) -> None:
    assert reduce_chord(label) == reduced
    assert exact_chord(label) == exact


def test_in_order_matching_is_mustangos_greedy_prefix_scan() -> None:
    assert matched_in_order(["C", "G", "Am", "F"], ["C", "Am", "F"]) == 3
    assert matched_in_order(["C", "Am"], ["Am", "C"]) == 1
    assert matched_in_order(["G", "C", "G"], ["C", "G", "C"]) == 2
    assert matched_in_order([], ["C"]) == 0
    assert matched_any_order(["C", "Am"], ["Am", "C", "C"]) == 2
    assert matched_any_order(["C", "C", "Am"], ["Am", "C", "C"]) == 3


def test_chord_match_reports_pcm_ecm_cmo_cmot() -> None:
    asked = ["Am", "F", "Cmaj7", "G"]
    perfect = chord_match(["Am7", "F", "C", "G", "Am"], asked)
    assert perfect is not None
    assert perfect.pcm and perfect.ecm == 1.0 and perfect.cmot == 1.0
    assert perfect.cmo == 0.75  # Am (heard last), F and G; not Cmaj7
    partial = chord_match(["F", "Am", "G"], asked)
    assert partial is not None
    assert not partial.pcm and partial.ecm == 0.25 and partial.cmot == 0.75
    with_silence = chord_match(["N", "D", "N"], ["N", "D"])
    assert with_silence is not None and with_silence.pcm
    assert chord_match(["C"], []) is None
    assert chord_match(["C"], ["N"]) is None


def test_chord_sequence_collapses_repeats_and_windows() -> None:
    segments = [
        ChordSegment(0.0, 1.0, NO_CHORD),
        ChordSegment(1.0, 2.0, "C"),
        ChordSegment(2.0, 3.0, NO_CHORD),
        ChordSegment(3.0, 4.0, "C"),
        ChordSegment(4.0, 6.0, "G"),
        ChordSegment(6.0, 9.0, "Am"),
    ]
    assert chord_sequence(segments) == ["C", "G", "Am"]
    assert chord_sequence(segments, end_s=4.0) == ["C"]
    assert chord_sequence(segments, start_s=5.0, end_s=7.0) == ["G", "Am"]


def test_chord_overlap_is_time_weighted_and_ignores_reference_silence() -> None:
    reference = [
        ChordSegment(0.0, 2.0, "C"),
        ChordSegment(2.0, 4.0, "Am"),
        ChordSegment(4.0, 5.0, NO_CHORD),
    ]
    heard = [ChordSegment(0.0, 3.0, "Cmaj7"), ChordSegment(3.0, 5.0, "Am7")]
    assert chord_overlap(heard, reference) == pytest.approx(0.75)
    assert chord_overlap(heard, reference, key=exact_chord) == pytest.approx(0.0)
    assert chord_overlap(heard, [ChordSegment(0.0, 1.0, NO_CHORD)]) is None
