"""ITU-R BS.1770-4 loudness and true peak, vectorised.

Integrated loudness: K-weighting (a high shelf and a high-pass, designed for any sample
rate from the analogue parameters), mean squares over 400 ms blocks every 100 ms, the
absolute gate at -70 LUFS and the relative gate 10 LU below. True peak: the largest value
of the signal oversampled 4x by a windowed-sinc interpolator (Annex 2); the interpolation
is computed only where the bound on it could reach the current maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import signal

from soundstar.errors import ParameterError

_BLOCK_S = 0.4
_STEP_S = 0.1
_ABS_GATE_LUFS = -70.0
_REL_GATE_LU = -10.0
_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
# K-weighting stage parameters (shelf: centre, gain, Q; high-pass: corner, Q)
_SHELF_HZ, _SHELF_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_HP_HZ, _HP_Q = 38.13547087602444, 0.5003270373238773
_SHELF_VB_EXP = 0.4996667741545416
_K_CHUNK = 1 << 19  # samples K-weighted at a time: small float64 intermediates
_OVERSAMPLE = 4
_TP_HALF_TAPS = 6
_TP_BLOCK = 16
_TP_CHUNK = 8192  # samples interpolated at a time (a multiple of _TP_BLOCK): stays in cache
_TP_DENSE = 0.25  # above this share of wanted blocks a whole chunk is cheaper than gathering
_TP_GATHER = 2048  # blocks gathered at a time
_PEAK_CHUNK = 65536  # samples whose |x| is taken at a time for block sample peaks
_TP_MARGIN = 1e-5  # on bounds: float32 rounding of the interpolator stays far below it


def _as_channels(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[0] > len(_CHANNEL_WEIGHTS):
        raise ParameterError(
            f"audio must be (n_samples,) or (channels <= 5, n_samples), got shape {x.shape}"
        )
    if x.size and not math.isfinite(float(np.sum(x, dtype=np.float64))):
        raise ParameterError("audio holds NaN or infinite samples")
    return x


@cache
def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """Second-order sections of the BS.1770 K-weighting filter at `sample_rate` (Hz)."""
    if sample_rate <= 2 * _SHELF_HZ:
        raise ParameterError(f"sample rate {sample_rate} Hz is too low for K-weighting")
    k = math.tan(math.pi * _SHELF_HZ / sample_rate)
    v_high = 10.0 ** (_SHELF_DB / 20.0)
    v_band = v_high**_SHELF_VB_EXP
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf = [
        (v_high + v_band * k / _SHELF_Q + k * k) / a0,
        2.0 * (k * k - v_high) / a0,
        (v_high - v_band * k / _SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / _SHELF_Q + k * k) / a0,
    ]
    high_pass = _high_pass(sample_rate)
    # keep the passband gain the 48 kHz coefficients of the standard have (+0.04 dB)
    scale = _gain_at(_high_pass(48000), 1000.0, 48000) / _gain_at(high_pass, 1000.0, sample_rate)
    high_pass[:3] = [c * scale for c in high_pass[:3]]
    sos = np.array([shelf, high_pass])
    sos.setflags(write=False)
    return sos


def _high_pass(sample_rate: int) -> list[float]:
    k = math.tan(math.pi * _HP_HZ / sample_rate)
    a0 = 1.0 + k / _HP_Q + k * k
    return [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HP_Q + k * k) / a0]


def _gain_at(section: list[float], freq_hz: float, sample_rate: int) -> float:
    z = np.exp(-1j * 2.0 * math.pi * freq_hz / sample_rate)
    num = section[0] + section[1] * z + section[2] * z * z
    den = section[3] + section[4] * z + section[5] * z * z
    return float(abs(num / den))


def weighted_power(audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Channel-weighted sum of K-weighted squared samples, shape [n_samples] (float32).

    Filtered in float64 a chunk at a time, the filter state carried over (the chunks join
    exactly), so no full-length float64 copy of the signal is made.
    """
    x = _as_channels(audio)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    sos = np.array(k_weighting_sos(sample_rate))
    power = np.empty(x.shape[1], dtype=np.float32)
    state = np.zeros((sos.shape[0], x.shape[0], 2))
    for start in range(0, x.shape[1], _K_CHUNK):
        filtered, state = signal.sosfilt(sos, x[:, start : start + _K_CHUNK], axis=-1, zi=state)
        acc = filtered[0]
        acc *= acc
        for ch in range(1, x.shape[0]):
            part = filtered[ch]
            part *= part
            if _CHANNEL_WEIGHTS[ch] != 1.0:
                part *= np.float32(_CHANNEL_WEIGHTS[ch])
            acc += part
        power[start : start + acc.size] = acc
    return power


def block_energies(power: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Mean weighted power of every 400 ms block, one block every 100 ms (float64)."""
    n = power.shape[0]
    block = round(float(_BLOCK_S * sample_rate))
    step = round(float(_STEP_S * sample_rate))
    if n == 0:
        return np.zeros(0)
    if n < block:
        return np.array([float(np.mean(power, dtype=np.float64))])
    per_block = block // step
    if per_block * step == block:
        n_sub = n // step
        sub = power[: n_sub * step].reshape(n_sub, step).sum(axis=1, dtype=np.float64)
        csum = np.concatenate([[0.0], np.cumsum(sub)])
        return np.asarray((csum[per_block:] - csum[:-per_block]) / block)
    csum = np.concatenate([[0.0], np.cumsum(power, dtype=np.float64)])
    starts = np.arange(0, n - block + 1, step)
    return np.asarray((csum[starts + block] - csum[starts]) / block)


def gate_blocks(means: np.ndarray) -> float:
    """Integrated loudness (LUFS) from block mean powers, both gates applied; -inf if none pass."""
    if means.size == 0:
        return float("-inf")
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(means)
    above = means[block_lufs > _ABS_GATE_LUFS]
    if above.size == 0:
        return float("-inf")
    relative = -0.691 + 10.0 * math.log10(float(np.mean(above))) + _REL_GATE_LU
    gated = means[(block_lufs > _ABS_GATE_LUFS) & (block_lufs > relative)]
    if gated.size == 0:
        return float("-inf")
    return float(-0.691 + 10.0 * math.log10(float(np.mean(gated))))


def gated_loudness(power: np.ndarray, *, sample_rate: int) -> float:
    """Integrated loudness (LUFS) from `weighted_power`; -inf when everything is gated."""
    return gate_blocks(block_energies(power, sample_rate=sample_rate))


def integrated_loudness(audio: np.ndarray, *, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness (LUFS) of (channels, n) or mono audio; -inf for silence.

    Signals shorter than one 400 ms block are measured as a single block.
    """
    return gated_loudness(weighted_power(audio, sample_rate=sample_rate), sample_rate=sample_rate)


def normalize_loudness(audio: np.ndarray, *, sample_rate: int, target_lufs: float) -> np.ndarray:
    """`audio` scaled to `target_lufs` integrated; silence comes back unchanged (a copy)."""
    if not math.isfinite(target_lufs):
        raise ParameterError("target_lufs must be finite", field="target_lufs")
    x = np.asarray(audio)
    loudness = integrated_loudness(x, sample_rate=sample_rate)
    if not math.isfinite(loudness):
        return x.copy()
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    return np.asarray(x * np.asarray(gain, dtype=x.dtype))


@cache
def _tp_taps() -> np.ndarray:
    """[phase 1..3, 2*half taps]: weights of x[n-half+1 .. n+half] for the value at n + p/4.

    Polyphase rows of a Kaiser-windowed (beta 6) 4x interpolation low-pass with its cut-off
    at the original Nyquist; passband overshoot stays under 0.02 dB.
    """
    half = _TP_HALF_TAPS
    n_taps = _OVERSAMPLE * 2 * half + 1
    proto = signal.firwin(n_taps, 1.0 / _OVERSAMPLE, window=("kaiser", 6.0)) * _OVERSAMPLE
    centre = n_taps // 2
    offsets = np.arange(-half + 1, half + 1)
    taps_arr = np.array([proto[centre + p - _OVERSAMPLE * offsets] for p in range(1, _OVERSAMPLE)])
    taps_arr.setflags(write=False)
    return taps_arr


@cache
def _tp_pair_weights() -> np.ndarray:
    """[3, half] float32 weights on the tap pairs x[n-half+1+k] and x[n+half-k] (k < half).

    The prototype is symmetric: phase 3's row is phase 1's reversed and phase 2's is its own
    mirror. With s_k, d_k a pair's sum and difference, phase 1 = E + O and phase 3 = E - O
    (E = sum even_k s_k, O = sum odd_k d_k), so max(|phase 1|, |phase 3|) = |E| + |O|, and
    phase 2 = sum mid_k s_k. Rows: even, odd, mid.
    """
    taps = _tp_taps()
    first, mirrored = taps[0, :_TP_HALF_TAPS], taps[0, ::-1][:_TP_HALF_TAPS]
    weights = np.array(
        [(first + mirrored) / 2.0, (first - mirrored) / 2.0, taps[1, :_TP_HALF_TAPS]],
        dtype=np.float32,
    )
    weights.setflags(write=False)
    return weights


@cache
def _tp_bound() -> float:
    """Largest sum of |taps| over the phases: |interpolated value| <= this * max |x| nearby."""
    return float(np.abs(_tp_taps()).sum(axis=1).max()) * (1.0 + _TP_MARGIN)


@dataclass(frozen=True)
class BlockTruePeaks:
    """Per block of _TP_BLOCK samples (all channels): `peaks` as `block_true_peaks` gives
    them, `upper` >= the block's 4x-oversampled peak, `sample` its largest |sample|."""

    peaks: np.ndarray
    upper: np.ndarray
    sample: np.ndarray


def _neighbour_max(values: np.ndarray) -> np.ndarray:
    """Max of each block's value and its two neighbours' (the interpolator's reach)."""
    out = values.copy()
    np.maximum(out[1:], values[:-1], out=out[1:])
    np.maximum(out[:-1], values[1:], out=out[:-1])
    return out


def _neighbour_min(values: np.ndarray) -> np.ndarray:
    """Min of each block's value and its two neighbours'."""
    out = values.copy()
    np.minimum(out[1:], values[:-1], out=out[1:])
    np.minimum(out[:-1], values[1:], out=out[:-1])
    return out


def _block_max(values: np.ndarray) -> np.ndarray:
    """Max of each run of _TP_BLOCK values (the last run may be shorter)."""
    return np.asarray(np.maximum.reduceat(values, np.arange(0, values.size, _TP_BLOCK)))


def _channel_max(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Max over the rows of (channels, m) `values`, into `out` [m]."""
    np.copyto(out, values[0])
    for row in values[1:]:
        np.maximum(out, row, out=out)
    return out


def _block_peaks(x: np.ndarray) -> np.ndarray:
    """Max |x| over channels and over blocks of _TP_BLOCK samples (last block padded)."""
    n = x.shape[1]
    peaks = np.empty(-(-n // _TP_BLOCK), dtype=np.float64)
    mags = np.empty((x.shape[0], min(n, _PEAK_CHUNK)), dtype=x.dtype)
    top = np.empty(min(n, _PEAK_CHUNK), dtype=x.dtype)
    for start in range(0, n, _PEAK_CHUNK):  # a chunk at a time: no full-length |x| copy
        m = min(n, start + _PEAK_CHUNK) - start
        np.abs(x[:, start : start + m], out=mags[:, :m])
        first = start // _TP_BLOCK
        blocks = _block_max(_channel_max(mags[:, :m], top[:m]))
        peaks[first : first + blocks.size] = blocks
    return peaks


def _pair_kernel(w: np.ndarray, m: int, scratch: Sequence[np.ndarray]) -> np.ndarray:
    """max(|phase 1|, |phase 2|, |phase 3|) for the `m` slots whose 2*half-sample windows
    start at 0 .. m-1 along axis 1 of `w`; `scratch`: six arrays shaped like the result."""
    half = _TP_HALF_TAPS
    even, odd, mid = (row.tolist() for row in _tp_pair_weights())
    pair_sum, pair_diff, e, o, p, t = scratch
    for k in range(half):
        near, far = w[:, k : k + m], w[:, 2 * half - 1 - k : 2 * half - 1 - k + m]
        np.add(near, far, out=pair_sum)
        np.subtract(near, far, out=pair_diff)
        if k == 0:
            np.multiply(pair_sum, even[0], out=e)
            np.multiply(pair_diff, odd[0], out=o)
            np.multiply(pair_sum, mid[0], out=p)
            continue
        np.multiply(pair_sum, even[k], out=t)
        e += t
        np.multiply(pair_diff, odd[k], out=t)
        o += t
        np.multiply(pair_sum, mid[k], out=t)
        p += t
    np.abs(e, out=e)
    np.abs(o, out=o)
    e += o
    np.abs(p, out=p)
    np.maximum(e, p, out=e)
    return e


def _interpolate_chunks(x: np.ndarray, chunks: np.ndarray, out: np.ndarray) -> None:
    """For each chunk index in `chunks`, the max |interpolated value| of each of its blocks
    (all channels and phases) into `out` [n_blocks]; the chunk's slice is contiguous."""
    half = _TP_HALF_TAPS
    n = x.shape[1]
    window = np.zeros((x.shape[0], _TP_CHUNK + 2 * half - 1), dtype=np.float32)
    scratch = [np.empty((x.shape[0], _TP_CHUNK), dtype=np.float32) for _ in range(6)]
    top = np.empty(_TP_CHUNK, dtype=np.float32)
    for chunk in chunks.tolist():
        start = chunk * _TP_CHUNK
        m = min(n, start + _TP_CHUNK) - start
        # window[:, t] = x[:, first + t], zero outside the signal
        first = start - half + 1
        lo, hi = max(0, first), min(n, start + m + half)
        w = window[:, : m + 2 * half - 1]
        w[:, : lo - first] = 0.0
        w[:, lo - first : hi - first] = x[:, lo:hi]
        w[:, hi - first :] = 0.0
        peaks = _pair_kernel(w, m, [a[:, :m] for a in scratch])
        blocks = _block_max(_channel_max(peaks, top[:m]))
        out[start // _TP_BLOCK : start // _TP_BLOCK + blocks.size] = blocks


def _interpolate_blocks(x: np.ndarray, blocks: np.ndarray, out: np.ndarray) -> None:
    """The max |interpolated value| of each listed block into `out[blocks]`: their windows
    are gathered as [channel, offset, block], so every operation runs on contiguous rows."""
    half = _TP_HALF_TAPS
    n = x.shape[1]
    offsets = np.arange(-half + 1, _TP_BLOCK + half)[:, None]
    for first in range(0, blocks.size, _TP_GATHER):
        batch = blocks[first : first + _TP_GATHER]
        idx = batch[None, :] * _TP_BLOCK + offsets  # [offset, block]
        if idx[0, 0] < 0 or idx[-1, -1] >= n:
            inside = (idx >= 0) & (idx < n)
            w = x[:, np.clip(idx, 0, n - 1)].astype(np.float32) * inside
        else:
            w = x[:, idx].astype(np.float32, copy=False)
        scratch = [np.empty((x.shape[0], _TP_BLOCK, batch.size), np.float32) for _ in range(6)]
        out[batch] = _pair_kernel(w, _TP_BLOCK, scratch).max(axis=(0, 1))


def _true_peaks_where(
    x: np.ndarray, sample: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(peaks, computed): the 4x-oversampled block peaks where `computed` (every `wanted`
    block, and all blocks of a chunk dense with them) and sample peaks elsewhere."""
    per_chunk = _TP_CHUNK // _TP_BLOCK
    n_chunks = -(-sample.size // per_chunk)
    hit = np.zeros(n_chunks * per_chunk, dtype=bool)
    hit[: sample.size] = wanted
    dense = hit.reshape(n_chunks, per_chunk).sum(axis=1) > _TP_DENSE * per_chunk
    computed = np.repeat(dense, per_chunk)[: sample.size]
    sparse = np.nonzero(wanted & ~computed)[0]
    computed |= wanted
    interp = np.zeros_like(sample)
    _interpolate_chunks(x, np.nonzero(dense)[0], interp)
    _interpolate_blocks(x, sparse, interp)
    return np.maximum(sample, interp), computed


def block_true_peak_bounds(audio: np.ndarray, *, threshold: float) -> BlockTruePeaks:
    """`block_true_peaks` with, per block, an upper bound on its true peak and its sample peak."""
    x = _as_channels(audio)
    sample = _block_peaks(x)
    if sample.size == 0:
        return BlockTruePeaks(sample, sample.copy(), sample.copy())
    reach = _neighbour_max(sample) * _tp_bound()
    peaks, computed = _true_peaks_where(x, sample, reach >= threshold)
    return BlockTruePeaks(peaks, np.where(computed, peaks, reach), sample)


def block_true_peaks(audio: np.ndarray, *, threshold: float) -> np.ndarray:
    """Per block of _TP_BLOCK samples, the 4x-oversampled peak (linear) over all channels.

    Blocks whose interpolated values provably stay below `threshold` may report their
    sample peak instead (an underestimate only where it cannot matter). Shape [n_blocks].
    """
    return block_true_peak_bounds(audio, threshold=threshold).peaks


def gained_true_peak_bounds(blocks: BlockTruePeaks, gain: np.ndarray) -> np.ndarray:
    """Per-block upper bounds on the true peak of `audio * gain` from `audio`'s `blocks`
    (`gain` per sample, >= 0, the length of the audio).

    With G and g the largest and smallest gain within the interpolator's reach of a block,
    |sum h_i x_i g_i| <= G |sum h_i x_i| + (G - g) sum |h_i| |x_i|.
    """
    starts = np.arange(0, gain.shape[0], _TP_BLOCK)
    high = _neighbour_max(np.maximum.reduceat(gain, starts).astype(np.float64))
    low = _neighbour_min(np.minimum.reduceat(gain, starts).astype(np.float64))
    spread = (high - low) * _neighbour_max(blocks.sample) * _tp_bound()
    return np.asarray((high * blocks.upper + spread) * (1.0 + _TP_MARGIN))


def max_true_peak(audio: np.ndarray, *, upper: np.ndarray) -> float:
    """The largest 4x-oversampled block peak (linear) of `audio`, given per-block `upper`
    bounds on it: only blocks whose bound exceeds the largest sample are interpolated."""
    x = _as_channels(audio)
    sample = _block_peaks(x)
    if sample.size == 0:
        return 0.0
    peaks, _ = _true_peaks_where(x, sample, upper > sample.max())
    return float(peaks.max())


def true_peak_dbtp(audio: np.ndarray, *, sample_rate: int) -> float:
    """True peak (dBTP) of (channels, n) or mono audio, 4x oversampled; -inf for silence."""
    if sample_rate <= 0:
        raise ParameterError("sample_rate must be positive", field="sample_rate")
    x = _as_channels(audio)
    if x.shape[1] == 0:
        return float("-inf")
    sample_peak = float(np.max(np.abs(x)))
    if sample_peak == 0.0:
        return float("-inf")
    peak = float(np.max(block_true_peaks(x, threshold=sample_peak)))
    return 20.0 * math.log10(peak)
