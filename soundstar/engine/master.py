"""Mastering a bus held on disk, a block at a time: memory that does not grow with length.

The same master as `mixer._master` (DC removed, glue compression, loudness normalised to the
target, true-peak limiter, up to three more pushes while the limiter costs over 0.2 LU), in
passes over the bus spool. What each stage needs of the whole piece is small: the mean, peaks
per 32 samples (the glue compressor), K-weighted power per 32 samples (loudness under any
slowly varying gain) and true peaks per 16 samples (the limiter). Those are gathered in
reads of the bus; the gain curves are computed from them whole and applied a block at a time.
The fixed gains it applied come out (`MasterGains`) and can be given back, so a part of a
piece rendered alone is mastered as it was in the whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import signal

from soundstar.audio.loudness import (
    _BLOCK_S,
    _CHANNEL_WEIGHTS,
    _STEP_S,
    _TP_BLOCK,
    block_true_peaks,
    gate_blocks,
    k_weighting_sos,
)
from soundstar.engine.effects import (
    CONTROL_BLOCK,
    block_peaks,
    compressor_knots,
    knots_between,
    limiter_knots,
)
from soundstar.engine.production import BusCompressor
from soundstar.engine.spool import Spool

CHUNK = 1 << 16  # samples mastered at a time: a multiple of both control blocks
_LIMIT_SLACK_LU = 0.2
_LIMIT_PASSES = 3
_MARGIN = CONTROL_BLOCK  # samples either side of a chunk the true-peak interpolator reads
_PUSH_HEADROOM_DB = 6.0  # pushes up to this stay exact; past it the final trim still holds
_MEASURE_BELOW_DB = 3.0  # true peaks measured exactly down to this far below the ceiling


class MasterGains(BaseModel):
    """What the master applied beyond the signal-following glue and limiter: the loudness
    pre-gain, the make-up after the glue, the limiter push, the DC removed and the energy
    the section dynamics are relative to. Given back, a part of a piece is mastered as it
    was in the whole, not normalised again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pre_gain_db: float = 0.0
    makeup_db: float = 0.0
    push_db: float = 0.0
    dc_offset: tuple[float, float] = (0.0, 0.0)
    energy_peak: float = Field(default=1.0, ge=0.0, le=1.0)

    @property
    def gain_db(self) -> float:
        """The master's fixed gain, in dB, before the glue's and the limiter's curves."""
        return self.pre_gain_db + self.makeup_db + self.push_db


@dataclass
class Mastered:
    audio: Spool  # (2, n) float32, mastered
    lufs: float = float("-inf")
    true_peak_dbtp: float = float("-inf")
    gains: MasterGains = field(default_factory=MasterGains)  # the fixed gains it applied
    glue: np.ndarray | None = None  # the gain applied, per CONTROL_BLOCK (None: silence)
    limiter: np.ndarray | None = None  # and the limiter's, per true-peak block

    def gain(self, start: int, stop: int) -> np.ndarray:
        """The master's gain on samples [start, stop) (start a multiple of CONTROL_BLOCK):
        a stem times it is the stem as it sits in the master."""
        if self.glue is None:
            return np.zeros(stop - start, dtype=np.float32)
        return _chunk_gain(self.glue, self.limiter, start, stop)


class _Weighting:
    """K-weighted, channel-weighted power of consecutive chunks, the filter state carried."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sos = np.array(k_weighting_sos(sample_rate))
        self.state = np.zeros((self.sos.shape[0], channels, 2))

    def power(self, x: np.ndarray) -> np.ndarray:
        filtered, self.state = signal.sosfilt(self.sos, x, axis=-1, zi=self.state)
        filtered *= filtered
        weights = np.array(_CHANNEL_WEIGHTS[: x.shape[0]])[:, None]
        return np.asarray((filtered * weights).sum(axis=0))


def energies_to_lufs(hops: np.ndarray, n: int, step: int, block: int, total: float) -> float:
    """Integrated loudness from power summed per hop of `step` samples (a block is a whole
    number of hops), as `block_energies` and `gate_blocks` measure it."""
    if n == 0:
        return float("-inf")
    if n < block:
        return gate_blocks(np.array([total / n]))
    per_block = block // step
    csum = np.concatenate([[0.0], np.cumsum(hops[: n // step])])
    return gate_blocks((csum[per_block:] - csum[:-per_block]) / block)


@dataclass
class _BusStats:
    mean: np.ndarray  # (2, 1)
    peaks: np.ndarray  # per CONTROL_BLOCK, of the bus less its mean
    power: np.ndarray  # K-weighted power summed per CONTROL_BLOCK


def _bus_stats(bus: Spool, sample_rate: int, dc_offset: tuple[float, float] | None) -> _BusStats:
    """The bus's statistics with `dc_offset` removed (None: its own mean)."""
    n = bus.n_samples
    if dc_offset is None:
        total = np.zeros((bus.channels, 1))
        for _, x in bus.blocks(CHUNK):
            total += x.sum(axis=1, keepdims=True, dtype=np.float64)
        mean = (total / max(n, 1)).astype(np.float32)
    else:
        mean = np.array(dc_offset[: bus.channels], dtype=np.float32)[:, None]
    n_control = -(-n // CONTROL_BLOCK)
    peaks = np.empty(n_control, dtype=np.float32)
    power = np.zeros(n_control)
    weighting = _Weighting(sample_rate, bus.channels)
    for start, x in bus.blocks(CHUNK):
        x -= mean
        first = start // CONTROL_BLOCK
        block = block_peaks(x, CONTROL_BLOCK)
        peaks[first : first + block.size] = block
        p = weighting.power(x)
        index = np.arange(p.size) // CONTROL_BLOCK
        power[first : first + block.size] = np.bincount(index, weights=p)
    return _BusStats(mean, peaks, power)


def _gained_lufs(stats: _BusStats, knots: np.ndarray, n: int, sample_rate: int) -> float:
    """Loudness of the bus under a gain given at every control block (knot k at sample
    32k, linear between): each block's power times its mean gain squared."""
    gained = knots[:-1] + knots[1:]
    gained *= 0.5
    gained = gained[: stats.power.size]
    gained *= gained
    gained *= stats.power
    step = round(_STEP_S * sample_rate)
    n_hops = -(-gained.size * CONTROL_BLOCK // step)
    firsts = -(-np.arange(n_hops) * step // CONTROL_BLOCK)  # a hop's first control block
    hops = np.add.reduceat(gained, firsts[firsts < gained.size])
    return energies_to_lufs(hops, n, step, round(_BLOCK_S * sample_rate), float(gained.sum()))


def _chunk_gain(glue: np.ndarray, limiter: np.ndarray | None, start: int, stop: int) -> np.ndarray:
    gain = knots_between(glue, CONTROL_BLOCK, start, stop)
    if limiter is not None:
        gain *= knots_between(limiter, _TP_BLOCK, start, stop)
    return gain


def _gained_chunks(
    bus: Spool, stats: _BusStats, glue: np.ndarray, limiter: np.ndarray | None
) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """(start, stop, lo, audio) for each `CHUNK` of the bus: read from `lo`, `_MARGIN` early
    (and as late) for the true-peak filter, centred and under the glue (and limiter) gain."""
    n = bus.n_samples
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        lo, hi = max(0, start - _MARGIN), min(n, stop + _MARGIN)
        x = bus.read(lo, hi)
        x -= stats.mean
        x *= _chunk_gain(glue, limiter, lo, hi)
        yield start, stop, lo, x


def _driven_peaks(bus: Spool, stats: _BusStats, glue: np.ndarray, threshold: float) -> np.ndarray:
    """True peaks per `_TP_BLOCK` of the bus under the glue gain (exact above `threshold`)."""
    out = np.empty(-(-bus.n_samples // _TP_BLOCK), dtype=np.float32)
    for start, stop, lo, x in _gained_chunks(bus, stats, glue, None):
        peaks = block_true_peaks(x, threshold=threshold)
        first = (start - lo) // _TP_BLOCK
        count = -(-(stop - start) // _TP_BLOCK)
        out[start // _TP_BLOCK : start // _TP_BLOCK + count] = peaks[first : first + count]
    return out


def _output_peak(
    bus: Spool, stats: _BusStats, glue: np.ndarray, limiter: np.ndarray | None, floor: float
) -> float:
    """The largest true peak of the limited bus (exact where it is above `floor`)."""
    top = 0.0
    for start, stop, lo, x in _gained_chunks(bus, stats, glue, limiter):
        peaks = block_true_peaks(x, threshold=max(floor, top))
        first = (start - lo) // _TP_BLOCK
        top = max(top, float(peaks[first : first + -(-(stop - start) // _TP_BLOCK)].max()))
    return top


def master(
    bus: Spool,
    *,
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float,
    settings: BusCompressor,
    fixed: MasterGains | None = None,
) -> Mastered:
    """Master the stereo `bus` to `target_lufs` with true peak <= `ceiling_dbtp`; the gain
    it applied comes with it (`Mastered.gain`, `Mastered.gains`). Given `fixed` (a whole
    piece's `gains`), its DC offset, pre-gain, make-up and push are applied instead of
    measured (the glue and limiter still act on the signal)."""
    n = bus.n_samples
    stats = _bus_stats(bus, sample_rate, None if fixed is None else fixed.dc_offset)
    loudness = _gained_lufs(stats, np.ones(stats.power.size + 1), n, sample_rate)
    if not math.isfinite(loudness) or not np.any(stats.peaks):
        return _silent(bus, fixed)
    pre_gain_db = target_lufs - loudness if fixed is None else fixed.pre_gain_db
    glue = compressor_knots(
        stats.peaks, sample_rate=sample_rate,
        threshold_db=settings.threshold_db + (target_lufs + 14.0) - pre_gain_db,
        ratio=settings.ratio, attack_ms=settings.attack_ms, release_ms=settings.release_ms,
        knee_db=settings.knee_db,
    )  # fmt: skip
    glue = np.concatenate([glue, glue[-1:]]) * 10.0 ** (pre_gain_db / 20.0)
    makeup_db = (
        target_lufs - _gained_lufs(stats, glue, n, sample_rate)
        if fixed is None
        else fixed.makeup_db
    )
    glue = (glue * 10.0 ** (makeup_db / 20.0)).astype(np.float32)
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    push = 1.0 if fixed is None else 10.0 ** (fixed.push_db / 20.0)
    exact_above = min(ceiling, ceiling / push) * 10.0 ** (-_PUSH_HEADROOM_DB / 20.0)
    peaks = _driven_peaks(bus, stats, glue, exact_above)
    limited = _limit(bus, stats, glue, peaks, push, ceiling, sample_rate)
    for _ in range(_LIMIT_PASSES if fixed is None else 0):  # a given push is applied as it is
        if target_lufs - limited.lufs <= _LIMIT_SLACK_LU:
            break
        push *= 10.0 ** ((target_lufs - limited.lufs) / 20.0)
        if ceiling / push < exact_above:  # pushed past the headroom: measure further down
            exact_above = ceiling / push * 10.0 ** (-_PUSH_HEADROOM_DB / 20.0)
            peaks = _driven_peaks(bus, stats, glue, exact_above)
        limited = _limit(bus, stats, glue, peaks, push, ceiling, sample_rate)
    glue = (glue * np.float32(push)).astype(np.float32)
    limiter = limited.knots
    audio = Spool(bus.channels, expected_samples=bus.n_samples)
    for start, x in bus.blocks(CHUNK):
        x -= stats.mean
        x *= _chunk_gain(glue, limiter, start, start + x.shape[1])
        np.clip(x, -1.0, 1.0, out=x)
        audio.append(x)
    peak = limited.peak
    mean = stats.mean[:, 0]
    return Mastered(
        audio=audio,
        lufs=limited.lufs,
        true_peak_dbtp=20.0 * math.log10(peak) if peak > 0 else float("-inf"),
        gains=fixed
        or MasterGains(
            pre_gain_db=float(pre_gain_db),
            makeup_db=float(makeup_db),
            push_db=float(20.0 * math.log10(push)),
            dc_offset=(float(mean[0]), float(mean[-1])),
        ),
        glue=glue,
        limiter=limiter,
    )


@dataclass
class _Limited:
    knots: np.ndarray | None  # the limiter's gain per `_TP_BLOCK` (None: it need not act)
    lufs: float
    peak: float  # the true peak of the result (linear)


def _limit(
    bus: Spool,
    stats: _BusStats,
    glue: np.ndarray,
    peaks: np.ndarray,
    push: float,
    ceiling: float,
    sample_rate: int,
) -> _Limited:
    """`effects.limit_true_peak` on the glued bus pushed by `push`: the limiter's knots from
    the driven peaks, then the result measured (one read of the bus) and, if it still
    passes the ceiling, trimmed; and the loudness that results."""
    n = bus.n_samples
    pushed = glue.astype(np.float64) * push
    need = np.maximum(peaks * np.float32(push), np.float32(1e-12))
    np.divide(np.float32(ceiling), need, out=need)
    np.minimum(need, np.float32(1.0), out=need)
    if float(need.min()) >= 1.0:
        return _Limited(
            None, _gained_lufs(stats, pushed, n, sample_rate), float(peaks.max()) * push
        )
    knots = limiter_knots(need, sample_rate=sample_rate).astype(np.float32)
    measured = _output_peak(
        bus, stats, (glue * np.float32(push)).astype(np.float32), knots,
        ceiling * 10.0 ** (-_MEASURE_BELOW_DB / 20.0),
    )  # fmt: skip
    if measured > ceiling:
        trim = ceiling / measured * 0.9999
        knots *= np.float32(trim)
        measured *= trim
    on_control = knots[:: CONTROL_BLOCK // _TP_BLOCK][: pushed.size]
    pushed[: on_control.size] *= on_control
    return _Limited(knots, _gained_lufs(stats, pushed, n, sample_rate), measured)


def _silent(bus: Spool, fixed: MasterGains | None) -> Mastered:
    audio = Spool(bus.channels, expected_samples=bus.n_samples)
    for _, x in bus.blocks(CHUNK):
        audio.append(np.zeros_like(x))
    return Mastered(audio=audio, gains=fixed or MasterGains())
