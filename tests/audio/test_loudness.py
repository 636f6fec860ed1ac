"""The BS.1770-4 meter agrees with pyloudnorm; true peak sees inter-sample peaks."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest

from soundstar.audio.loudness import integrated_loudness, normalize_loudness, true_peak_dbtp
from soundstar.errors import ParameterError


def _music_like(rate: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    tones = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (110.0, 220.0, 330.0, 440.0, 1320.0))
    beat = (np.mod(t, 0.5) < 0.05) * rng.standard_normal(t.size) * 0.4
    swell = 0.3 + 0.7 * np.sin(np.pi * t / seconds) ** 2
    left = (tones + beat) * swell
    right = np.roll(left, 200) * 0.8
    return np.stack([left, right])


def _signals(rate: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(rate)
    t = np.arange(rate * 6) / rate
    quiet_then_loud = np.concatenate(
        [np.full(rate * 3, 0.001), np.full(rate * 3, 0.3)]
    ) * rng.standard_normal(rate * 6)
    return {
        "noise_stereo": rng.standard_normal((2, t.size)) * 0.1,
        "sine_1k_mono": 0.5 * np.sin(2 * np.pi * 1000 * t),
        "sine_60_stereo": np.stack([0.4 * np.sin(2 * np.pi * 60 * t)] * 2),
        "sine_8k_stereo": np.stack(
            [0.2 * np.sin(2 * np.pi * 8000 * t), 0.1 * np.sin(2 * np.pi * 5000 * t)]
        ),
        "music_like": _music_like(rate, 6.0, rng),
        "gated_quiet_part": np.stack([quiet_then_loud, quiet_then_loud * 0.5]),
    }


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
def test_integrated_loudness_agrees_with_pyloudnorm(rate: int) -> None:
    meter = pyloudnorm.Meter(rate)
    for name, x in _signals(rate).items():
        ours = integrated_loudness(x.astype(np.float32), sample_rate=rate)
        ref = meter.integrated_loudness(x.T if x.ndim == 2 else x)
        assert abs(ours - ref) < 0.1, (name, ours, ref)


def test_silence_measures_minus_infinity_and_normalises_to_itself() -> None:
    silent = np.zeros((2, 48000), dtype=np.float32)
    assert integrated_loudness(silent, sample_rate=48000) == -math.inf
    assert true_peak_dbtp(silent, sample_rate=48000) == -math.inf
    out = normalize_loudness(silent, sample_rate=48000, target_lufs=-14.0)
    assert np.array_equal(out, silent) and not np.any(np.isnan(out))


def test_normalize_reaches_the_target() -> None:
    x = _music_like(44100, 5.0, np.random.default_rng(0)).astype(np.float32)
    y = normalize_loudness(x, sample_rate=44100, target_lufs=-20.0)
    assert integrated_loudness(y, sample_rate=44100) == pytest.approx(-20.0, abs=0.01)


def test_true_peak_finds_the_peak_between_samples() -> None:
    n = np.arange(8000)
    fade = np.clip(np.minimum(n, n[::-1]) / 1000.0, 0.0, 1.0)
    x = np.sin(np.pi / 2 * n + np.pi / 4) * fade  # samples at ±0.707, true peak 1.0
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x, sample_rate=48000) == pytest.approx(0.0, abs=0.1)


def test_true_peak_is_never_below_the_sample_peak() -> None:
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = rng.standard_normal((2, 5000)) * rng.uniform(0.01, 1.0)
        assert true_peak_dbtp(x, sample_rate=44100) >= 20 * np.log10(np.max(np.abs(x))) - 1e-6


def test_bad_audio_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        integrated_loudness(np.array([0.0, np.nan, 0.0]), sample_rate=44100)
    with pytest.raises(ParameterError):
        integrated_loudness(np.zeros((7, 100)), sample_rate=44100)
