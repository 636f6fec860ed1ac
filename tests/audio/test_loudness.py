"""The BS.1770-4 meter agrees with pyloudnorm; true peak sees inter-sample peaks."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy import signal

from soundstar.audio import loudness
from soundstar.audio.loudness import (
    _tp_taps,
    block_true_peak_bounds,
    block_true_peaks,
    gained_true_peak_bounds,
    integrated_loudness,
    k_weighting_sos,
    max_true_peak,
    normalize_loudness,
    true_peak_dbtp,
    weighted_power,
)
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


# --------------------------------------------------------------------------- fast paths


def _direct_block_peaks(x: np.ndarray) -> np.ndarray:
    """Per block of 16 samples, the largest |sample| and |4x interpolated value| over the
    channels, in float64 straight from the interpolator's taps (the slow, obvious way)."""
    taps = _tp_taps()
    half = taps.shape[1] // 2
    x2 = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = x2.shape[1]
    padded = np.zeros((x2.shape[0], n + 2 * half))
    padded[:, half : half + n] = x2
    best = np.abs(x2).max(axis=0)
    for row in taps:
        values = sum(tap * padded[:, 1 + i : 1 + i + n] for i, tap in enumerate(row))
        best = np.maximum(best, np.abs(values).max(axis=0))
    n_blocks = -(-n // 16)
    out = np.zeros(n_blocks * 16)
    out[:n] = best
    return out.reshape(n_blocks, 16).max(axis=1)


def _bursts(channels: int, n: int, seed: int) -> np.ndarray:
    """Noise with loud bursts here and there: dense and sparse stretches of loud blocks."""
    rng = np.random.default_rng(seed)
    level = np.where(rng.random(n // 500 + 1) < 0.2, 0.9, 0.05).repeat(500)[:n]
    return (rng.standard_normal((channels, n)) * level * 0.4).astype(np.float32)


@pytest.mark.parametrize(("channels", "n"), [(1, 5), (2, 16), (2, 17), (1, 9000), (2, 20011)])
def test_block_true_peaks_match_the_direct_interpolation(channels: int, n: int) -> None:
    x = _bursts(channels, n, seed=n)
    ours = block_true_peaks(x, threshold=0.0)
    np.testing.assert_allclose(ours, _direct_block_peaks(x), rtol=2e-6)


def test_whole_chunks_and_gathered_blocks_interpolate_identically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = _bursts(2, 60000, seed=1)
    threshold = 0.5 * float(np.abs(x).max())
    monkeypatch.setattr(loudness, "_TP_DENSE", 0.0)  # every chunk with a wanted block whole
    whole = block_true_peak_bounds(x, threshold=threshold)
    monkeypatch.setattr(loudness, "_TP_DENSE", 1.0)  # only the wanted blocks, gathered
    gathered = block_true_peak_bounds(x, threshold=threshold)
    wanted = whole.upper >= threshold
    assert 0 < wanted.sum() < wanted.size
    np.testing.assert_array_equal(whole.peaks[wanted], gathered.peaks[wanted])


def test_blocks_below_the_threshold_may_be_skipped_but_never_overstated() -> None:
    x = _bursts(2, 40000, seed=2)
    direct = _direct_block_peaks(x)
    threshold = 0.7 * float(direct.max())
    bounds = block_true_peak_bounds(x, threshold=threshold)
    assert np.all(bounds.peaks <= direct * (1 + 2e-6))
    loud = direct >= threshold
    np.testing.assert_allclose(bounds.peaks[loud], direct[loud], rtol=2e-6)
    assert np.all(bounds.upper >= direct * (1 - 2e-6))
    np.testing.assert_array_equal(bounds.sample, np.abs(x).max(axis=0).reshape(-1, 16).max(axis=1))


@pytest.mark.parametrize("kind", ["smooth", "steps"])
def test_gained_bounds_hold_and_the_partial_measure_is_exact(kind: str) -> None:
    x = _bursts(2, 30000, seed=3)
    t = np.arange(x.shape[1])
    if kind == "smooth":
        gain = 0.6 + 0.4 * np.sin(2 * np.pi * t / 3000.0)
    else:
        gain = np.where((t // 700) % 2 == 0, 1.0, 0.3)
    gain = gain.astype(np.float32)
    y = x * gain
    upper = gained_true_peak_bounds(block_true_peak_bounds(x, threshold=0.8), gain)
    direct = _direct_block_peaks(y)
    assert np.all(upper >= direct * (1 - 1e-6))
    assert max_true_peak(y, upper=upper) == float(block_true_peaks(y, threshold=0.0).max())
    assert max_true_peak(y, upper=upper) == pytest.approx(float(direct.max()), rel=2e-6)


def test_weighted_power_in_chunks_equals_filtering_in_one_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = _bursts(2, 4321, seed=4)
    filtered = signal.sosfilt(np.array(k_weighting_sos(44100)), x, axis=-1)
    expected = (filtered[0] ** 2 + filtered[1] ** 2).astype(np.float32)
    monkeypatch.setattr(loudness, "_K_CHUNK", 1000)
    np.testing.assert_array_equal(weighted_power(x, sample_rate=44100), expected)
