"""Effects: EQ responses, pan law, compressor, ducking, reverb, limiter, DC blocker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.loudness import block_true_peaks, true_peak_dbtp
from soundstar.engine import effects
from soundstar.engine.effects import (
    EqBand,
    _block_peak,
    _knots_to_samples,
    biquad_eq,
    compress,
    limit_true_peak,
    pan_mono,
    remove_dc,
    reverb,
    sidechain_duck,
    true_peak_limit,
)
from soundstar.errors import ParameterError

SR = 44100


def _tone(freq: float, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


@pytest.mark.parametrize(
    ("band", "freq", "expected_db"),
    [
        (EqBand("highpass", 200.0), 50.0, -24.0),
        (EqBand("highpass", 200.0), 2000.0, 0.0),
        (EqBand("lowpass", 1000.0), 4000.0, -24.0),
        (EqBand("peaking", 1000.0, 6.0, 1.0), 1000.0, 6.0),
        (EqBand("low_shelf", 200.0, -6.0), 40.0, -6.0),
        (EqBand("high_shelf", 4000.0, 4.0), 15000.0, 4.0),
    ],
)
def test_eq_bands_have_their_textbook_response(
    band: EqBand, freq: float, expected_db: float
) -> None:
    x = _tone(freq, 1.0)
    y = biquad_eq(x, sample_rate=SR, bands=[band])
    gain_db = 20 * np.log10(_rms(y[SR // 2 :]) / _rms(x[SR // 2 :]))
    assert gain_db == pytest.approx(expected_db, abs=1.5)


def test_pan_is_constant_power() -> None:
    x = _tone(440.0)
    for pan in (-1.0, -0.3, 0.0, 0.6, 1.0):
        stereo = pan_mono(x, pan=pan)
        assert stereo.shape == (2, x.size)
        assert _rms(stereo[0]) ** 2 + _rms(stereo[1]) ** 2 == pytest.approx(_rms(x) ** 2, rel=1e-4)
    assert _rms(pan_mono(x, pan=-1.0)[1]) < 1e-6
    with pytest.raises(ParameterError):
        pan_mono(x, pan=1.5)


def test_compressor_reduces_loud_parts_more_than_quiet_ones() -> None:
    quiet, loud = _tone(200.0, 1.0, 0.05), _tone(200.0, 1.0, 0.9)
    x = np.concatenate([quiet, loud])[None, :]
    y = compress(x, sample_rate=SR, threshold_db=-20.0, ratio=4.0, attack_ms=5.0, release_ms=100.0)
    assert _rms(y[0, : SR // 2]) == pytest.approx(_rms(x[0, : SR // 2]), rel=0.02)
    # 0.9 peak is ~19 dB over the threshold: 4:1 leaves ~4.7 dB of it
    reduced_db = 20 * np.log10(_rms(y[0, -SR // 2 :]) / _rms(x[0, -SR // 2 :]))
    assert reduced_db == pytest.approx(-14.3, abs=1.5)


def test_sidechain_ducks_after_each_onset_and_recovers() -> None:
    x = np.ones((2, SR), dtype=np.float32) * 0.5
    y = sidechain_duck(x, key=np.array([0.25]), sample_rate=SR, depth_db=6.0, release_ms=80.0)
    at_kick = y[0, int(0.26 * SR)]
    assert at_kick == pytest.approx(0.5 * 10 ** (-6 / 20), rel=0.15)
    assert y[0, int(0.2 * SR)] == pytest.approx(0.5, rel=1e-3)
    assert y[0, int(0.9 * SR)] == pytest.approx(0.5, rel=0.01)
    assert np.max(np.abs(np.diff(y[0]))) < 0.01  # no step: no click


def test_sidechain_from_a_key_signal() -> None:
    key = np.zeros(SR, dtype=np.float32)
    key[SR // 2 : SR // 2 + 500] = 1.0
    x = np.ones(SR, dtype=np.float32)
    y = sidechain_duck(x, key=key, sample_rate=SR, depth_db=6.0, release_ms=80.0, key_kind="signal")
    assert y[SR // 2 + 400] < 0.6 and y[SR // 4] == pytest.approx(1.0, abs=1e-3)


def test_reverb_tail_rings_after_the_input_stops_and_decays() -> None:
    x = np.zeros(3 * SR, dtype=np.float32)
    x[:2000] = np.random.default_rng(0).standard_normal(2000).astype(np.float32)
    y = reverb(x, sample_rate=SR, room_size=0.5, decay_s=1.0, damping=0.5, wet=1.0)
    assert y.shape == (2, x.size) and np.all(np.isfinite(y))
    early = _rms(y[:, int(0.1 * SR) : int(0.3 * SR)])
    late = _rms(y[:, int(1.1 * SR) : int(1.3 * SR)])
    drop_db = 20 * np.log10(late / early)
    assert -75.0 < drop_db < -40.0  # about 60 dB per second of decay
    assert np.corrcoef(y[0], y[1])[0, 1] < 0.5  # a wide, decorrelated tail


def test_reverb_dry_only_when_wet_is_zero() -> None:
    x = _tone(300.0)
    y = reverb(x, sample_rate=SR, room_size=0.5, decay_s=1.0, damping=0.5, wet=0.0)
    assert np.allclose(y[0], x) and np.allclose(y[1], x)


def test_limiter_holds_the_true_peak_ceiling() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, SR * 2)) * 0.5).astype(np.float32)
    y = true_peak_limit(x, sample_rate=SR, ceiling_dbtp=-1.0)
    assert true_peak_dbtp(y, sample_rate=SR) <= -1.0 + 1e-3
    # quiet passages pass untouched
    quiet = x * 0.05
    assert np.array_equal(true_peak_limit(quiet, sample_rate=SR, ceiling_dbtp=-1.0), quiet)


def test_limiter_catches_inter_sample_peaks() -> None:
    n = np.arange(20000)
    x = (0.85 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)  # samples ±0.6, peaks 0.85
    y = true_peak_limit(x, sample_rate=SR, ceiling_dbtp=-3.0)
    assert true_peak_dbtp(y, sample_rate=SR) <= -3.0 + 1e-3


@settings(max_examples=25, deadline=None)
@given(
    scale=st.floats(0.001, 20.0),
    ceiling=st.floats(-6.0, -0.1),
    seed=st.integers(0, 2**16),
    length=st.integers(1, 6000),
)
def test_limiter_property_finite_and_under_ceiling(
    scale: float, ceiling: float, seed: int, length: int
) -> None:
    x = (np.random.default_rng(seed).standard_normal((2, length)) * scale).astype(np.float32)
    y = true_peak_limit(x, sample_rate=SR, ceiling_dbtp=ceiling)
    assert np.all(np.isfinite(y))
    assert true_peak_dbtp(y, sample_rate=SR) <= ceiling + 1e-3


@pytest.mark.parametrize("ceiling", [-1.0, -3.0])
def test_limiter_reports_the_true_peak_of_what_it_returns(ceiling: float) -> None:
    rng = np.random.default_rng(5)
    swell = np.repeat(rng.uniform(0.05, 1.0, 40), 2205)
    x = (rng.standard_normal((2, swell.size)) * swell * 0.5).astype(np.float32)
    y, peak, gain = limit_true_peak(x, sample_rate=SR, ceiling_dbtp=ceiling)
    assert gain is not None and np.all(gain <= 1.0)
    measured = float(block_true_peaks(y, threshold=0.0).max())  # every block interpolated
    assert peak == pytest.approx(measured, rel=1e-6)
    assert 20 * np.log10(measured) <= ceiling + 1e-4
    assert float(np.abs(y).max()) <= 1.0


@pytest.mark.parametrize("block", [1, 2, 4, 8, 16, 32])
@pytest.mark.parametrize("n", [1, 37, 4096, 10001])
def test_knots_interpolate_the_same_strided_or_broadcast(
    block: int, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    knots = np.random.default_rng(n + block).random(-(-n // block) + 1)
    monkeypatch.setattr(effects, "_STRIDED_BLOCK", 64)
    strided = _knots_to_samples(knots, block, n)
    into = _knots_to_samples(knots, block, n, out=np.empty(n, dtype=np.float32))
    monkeypatch.setattr(effects, "_STRIDED_BLOCK", 0)
    broadcast = _knots_to_samples(knots, block, n)
    np.testing.assert_array_equal(strided, broadcast)
    np.testing.assert_array_equal(into, broadcast)
    assert broadcast.shape == (n,) and broadcast.dtype == np.float32


@pytest.mark.parametrize(("channels", "n"), [(1, 1), (2, 31), (2, 70001)])
def test_block_peaks_are_the_largest_magnitudes(channels: int, n: int) -> None:
    x = np.random.default_rng(n).standard_normal((channels, n)).astype(np.float32)
    padded = np.zeros((channels, -(-n // 32) * 32), dtype=np.float32)
    padded[:, :n] = np.abs(x)
    expected = padded.reshape(channels, -1, 32).max(axis=(0, 2))
    np.testing.assert_array_equal(_block_peak(x, 32), expected)


def test_remove_dc_removes_offset_keeps_tone() -> None:
    x = _tone(200.0, 2.0) + 0.3
    y = remove_dc(x, sample_rate=SR)
    assert abs(float(np.mean(y[SR:]))) < 1e-3
    assert _rms(y[SR:]) == pytest.approx(_rms(x[SR:] - 0.3), rel=0.02)


def test_effects_reject_non_finite_audio() -> None:
    bad = np.array([0.0, np.inf], dtype=np.float32)
    with pytest.raises(ParameterError):
        compress(bad, sample_rate=SR, threshold_db=-10, ratio=2, attack_ms=1, release_ms=10)
