"""A look-ahead peak limiter that runs block by block with its state carried between blocks.

The gain for a sample is the smallest gain any sample of the look-ahead window ahead of it
needs, averaged over that window (so the gain has arrived when the peak does) and released
by a one-pole; the output is delayed by the look-ahead. Feeding a signal in blocks of any
size gives the same output as feeding it whole.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal
from scipy.ndimage import minimum_filter1d

from soundstar.errors import ParameterError


class StreamingLimiter:
    """Holds (2, n) float32 blocks under `ceiling_dbtp` (sample peak), state carried."""

    def __init__(
        self,
        *,
        sample_rate: int,
        ceiling_dbtp: float = -1.0,
        lookahead_ms: float = 1.5,
        release_ms: float = 60.0,
    ) -> None:
        if sample_rate <= 0:
            raise ParameterError("sample_rate must be positive", field="sample_rate")
        if not math.isfinite(ceiling_dbtp) or not -20.0 <= ceiling_dbtp <= 0.0:
            raise ParameterError("ceiling_dbtp must be in [-20, 0]", field="ceiling_dbtp")
        if lookahead_ms <= 0.0 or release_ms <= 0.0:
            raise ParameterError("lookahead_ms and release_ms must be positive")
        self.sample_rate = sample_rate
        self.ceiling = 10.0 ** (ceiling_dbtp / 20.0)
        look = max(2, round(lookahead_ms / 1000.0 * sample_rate))
        self.lookahead = look + look % 2  # even: the window (odd) starts at each sample
        pole = math.exp(-1.0 / (release_ms / 1000.0 * sample_rate))
        self._release = ([1.0 - pole], [1.0, -pole])
        self.reset()

    def reset(self) -> None:
        """Forget everything heard: silence in the delay line, unity gain."""
        self._delay = np.zeros((2, self.lookahead), dtype=np.float32)
        self._ahead = np.ones(self.lookahead, dtype=np.float64)
        self._pole_state = np.array([-self._release[1][1]])  # the one-pole resting at unity

    def process(self, block: np.ndarray) -> np.ndarray:
        """The next `block` (2, n) limited, as a new (2, n) float32 array, `lookahead` late."""
        x = np.asarray(block, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != 2:
            raise ParameterError("the limiter takes stereo blocks shaped (2, n)")
        n = x.shape[1]
        if n == 0:
            return x.copy()
        look = self.lookahead
        buf = np.concatenate([self._delay, x], axis=1)
        peak = np.abs(buf).max(axis=0).astype(np.float64)
        need = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-12))
        width = look + 1
        ahead = minimum_filter1d(need, size=width, origin=-(width // 2), mode="nearest")[:n]
        history = np.concatenate([self._ahead, ahead])
        csum = np.concatenate([[0.0], np.cumsum(history)])
        averaged = (csum[width : width + n] - csum[:n]) / width
        released, self._pole_state = signal.lfilter(*self._release, averaged, zi=self._pole_state)
        gain = np.minimum(averaged, released).astype(np.float32)
        out: np.ndarray = buf[:, :n] * gain[None, :]
        np.clip(out, -self.ceiling, self.ceiling, out=out)
        self._delay = buf[:, n:].copy()
        self._ahead = history[-look:].copy()
        return out
