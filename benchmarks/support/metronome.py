"""Calibration of the tempo estimator on bare metronomes.

A click on every beat (and optionally a quieter click on every off-beat eighth) is the
clearest tempo any music can carry. Where the estimator misreads even that, a miss on
rendered music at the same tempo says more about the estimator's tempo prior than about
the music, so the adherence benchmark reports explicit-BPM accuracy both over all prompts
and over the tempos a metronome is read right at.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from soundstar.audio.analysis import estimate_tempo, tempo_matches

CLICK_S = 0.01
CALIBRATION_BPM = tuple(range(50, 195, 5))


def click_track(
    bpm: float, *, sample_rate: int, seconds: float = 30.0, offbeat_level: float = 0.0
) -> np.ndarray:
    """Mono float32: an identical noise click on every beat, and on every off-beat eighth
    at `offbeat_level` of its level (0: beats only)."""
    if bpm <= 0 or sample_rate <= 0 or seconds <= 0 or not 0.0 <= offbeat_level <= 1.0:
        raise ValueError("bpm, sample_rate and seconds must be positive, offbeat_level in [0, 1]")
    n = int(seconds * sample_rate)
    length = int(CLICK_S * sample_rate * 4)
    decay = np.exp(-np.arange(length) / (CLICK_S * sample_rate))
    click = np.random.default_rng(0).standard_normal(length) * decay
    out = np.zeros(n + length)
    half_beat = 30.0 / bpm
    for k in range(int(seconds / half_beat) + 1):
        start = round(k * half_beat * sample_rate)
        if start < n:
            out[start : start + length] += click * (1.0 if k % 2 == 0 else offbeat_level)
    return np.asarray(0.5 * out[:n] / np.max(np.abs(out)), dtype=np.float32)


@cache
def metronome_reading(bpm: float, *, sample_rate: int, offbeat_level: float = 0.0) -> float:
    """The estimator's tempo for a 30 s click track at `bpm`."""
    audio = click_track(bpm, sample_rate=sample_rate, offbeat_level=offbeat_level)
    return round(estimate_tempo(audio, sample_rate=sample_rate), 2)


def metronome_is_read_right(bpm: float, *, sample_rate: int) -> bool:
    """True when a beats-only metronome at `bpm` is measured within 2 %."""
    return tempo_matches(metronome_reading(bpm, sample_rate=sample_rate), bpm, tol=0.02)


def calibration_table(*, sample_rate: int) -> dict[str, dict[str, float]]:
    """The estimator's reading of metronomes from 50 to 190 BPM, beats only and with
    off-beat eighths at half level."""
    return {
        label: {
            str(bpm): metronome_reading(float(bpm), sample_rate=sample_rate, offbeat_level=level)
            for bpm in CALIBRATION_BPM
        }
        for label, level in (("beats_only", 0.0), ("beats_and_half_level_eighths", 0.5))
    }
