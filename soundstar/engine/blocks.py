"""Synthesis in blocks of bars: each block plays the notes that start in it, and what those
notes sound past its end (release tails, long notes) is carried into the next blocks.

A synthesizer is called once per block with the block's notes, shifted to start at the
block, and room for their tails; so a track costs memory for one block and its tails, not
for its whole length. The notes of a track keep their order across blocks (the random
draws of a synthesizer follow it), so the blocks add up to the track rendered at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

BLOCK_ALIGN = 64  # block edges fall on multiples of this: every control-rate block fits
MIN_BLOCK_S = 30.0  # a block spans whole bars, at least this long unless the piece is shorter

# (note indices, the track's sample the block starts at, length) → mono float32 of that length
PlayFn = Callable[[np.ndarray, int, int], np.ndarray]


def block_edges(
    *, n_samples: int, bar_seconds: float, sample_rate: int, bars_per_block: int | None = None
) -> list[int]:
    """Sample positions where blocks start, then `n_samples`: every `bars_per_block` bars
    (default: enough bars for `MIN_BLOCK_S`), rounded to a multiple of `BLOCK_ALIGN`."""
    bars = bars_per_block or max(1, math.ceil(MIN_BLOCK_S / bar_seconds))
    step = bars * bar_seconds * sample_rate
    edges = [0]
    k = 1
    while True:
        edge = round(k * step / BLOCK_ALIGN) * BLOCK_ALIGN
        if edge >= n_samples:
            break
        if edge > edges[-1]:
            edges.append(edge)
        k += 1
    return [*edges, n_samples]


class TrackBlocks:
    """One track played a block at a time by `play`, its notes' tails carried over."""

    def __init__(
        self,
        onset_s: np.ndarray,
        end_s: np.ndarray,
        *,
        play: PlayFn,
        tail_samples: int,
        n_samples: int,
        sample_rate: int,
    ) -> None:
        self.sample_rate = sample_rate
        self.starts = np.round(np.asarray(onset_s, dtype=np.float64) * sample_rate)
        self.ends = np.round(np.asarray(end_s, dtype=np.float64) * sample_rate) + tail_samples
        self.order = np.argsort(self.starts, kind="stable")
        self.play = play
        self.n_samples = n_samples
        self.carry = np.zeros(0, dtype=np.float32)
        self.position = 0

    def render_block(self, start: int, stop: int) -> np.ndarray:
        """Mono float32 samples [start, stop): the blocks must come in order, without gaps."""
        if start != self.position or not start < stop <= self.n_samples:
            raise ValueError(
                f"blocks must follow one another: {start}..{stop} after {self.position}"
            )
        self.position = stop
        length = stop - start
        starts = self.starts[self.order]
        lo, hi = np.searchsorted(starts, [start, stop], side="left")
        picked = self.order[lo:hi]
        reach = length
        if picked.size:
            reach = max(length, int(self.ends[picked].max()) - start)
        span = min(max(reach, self.carry.size), self.n_samples - start)
        out = np.zeros(span, dtype=np.float32)
        out[: self.carry.size] += self.carry[:span]
        if picked.size:
            played = self.play(picked, start, min(reach, span))
            out[: played.size] += played
        self.carry = out[length:].copy()
        return out[:length]
