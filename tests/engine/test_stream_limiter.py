"""The streaming limiter: peaks held under the ceiling, and the same output whatever the
block sizes it is fed in."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.engine.stream_limiter import StreamingLimiter
from soundstar.errors import ParameterError

SR = 22050


def _loud(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * 220 * t) * (0.3 + 2.0 * (np.sin(2 * np.pi * 1.5 * t) > 0.6))
    return (tone + 0.1 * rng.standard_normal((2, n))).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=12), seed=st.integers(0, 99))
def test_blocks_of_any_size_give_the_whole_signals_output(sizes: list[int], seed: int) -> None:
    x = _loud(sum(sizes), seed)
    whole = StreamingLimiter(sample_rate=SR).process(x)
    limiter = StreamingLimiter(sample_rate=SR)
    edges = np.cumsum([0, *sizes])
    parts = [limiter.process(x[:, a:b]) for a, b in itertools.pairwise(edges)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, atol=1e-6)


def test_peaks_stay_under_the_ceiling_by_gain_not_by_clipping() -> None:
    x = _loud(SR * 2, 1)
    limiter = StreamingLimiter(sample_rate=SR, ceiling_dbtp=-1.0)
    y = limiter.process(x)
    ceiling = 10 ** (-1 / 20)
    assert float(np.abs(y).max()) <= ceiling + 1e-6
    delayed = x[:, : y.shape[1] - limiter.lookahead]
    gain = y[:, limiter.lookahead :] / np.where(np.abs(delayed) > 1e-3, delayed, np.nan)
    assert np.nanmin(gain) < 0.5  # the loud bursts are turned down
    both = np.all(np.abs(delayed) > 0.05, axis=0)
    # one gain for both channels: a clipped sample would take its own
    np.testing.assert_allclose(gain[0, both], gain[1, both], rtol=1e-4)


def test_quiet_audio_passes_unchanged_but_late() -> None:
    x = (0.1 * _loud(4000, 2) / 2.5).astype(np.float32)
    limiter = StreamingLimiter(sample_rate=SR)
    y = limiter.process(x)
    look = limiter.lookahead
    np.testing.assert_allclose(y[:, look:], x[:, :-look], atol=1e-7)
    assert not np.any(y[:, :look])


def test_bad_settings_and_shapes_are_refused() -> None:
    with pytest.raises(ParameterError):
        StreamingLimiter(sample_rate=SR, ceiling_dbtp=3.0)
    with pytest.raises(ParameterError):
        StreamingLimiter(sample_rate=SR).process(np.zeros(100, np.float32))
