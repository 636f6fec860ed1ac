"""Mixing effects: pure functions on float32 audio shaped (channels, n_samples).

Everything that follows a level (compressor, ducking, limiter) works on a control signal
at block rate (one value per few samples, smoothed with one-pole `lfilter`s) and
interpolates the resulting gain back to audio rate, so no stage loops over samples in
Python. The reverb is a synthetic stereo impulse response (early reflections, then
decorrelated noise whose high bands die sooner) convolved by FFT at a reduced rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import scipy.fft
from scipy import signal
from scipy.ndimage import minimum_filter1d

from soundstar.audio.loudness import _TP_BLOCK as TP_BLOCK
from soundstar.audio.loudness import (
    block_true_peak_bounds,
    gained_true_peak_bounds,
    max_true_peak,
)
from soundstar.errors import ParameterError

EqKind = Literal["low_shelf", "high_shelf", "peaking", "highpass", "lowpass"]
CONTROL_BLOCK = 32
_REVERB_RATE_HZ = 11000
_PEAK_CHUNK_BLOCKS = 2048
_KNOT_CHUNK = 1 << 16  # limiter knots computed at a time
_STRIDED_BLOCK = 8  # up to this block size, knots are interpolated with strided passes


@dataclass(frozen=True)
class EqBand:
    """One biquad band (RBJ cookbook): `gain_db` is used by shelves and peaking bands."""

    kind: EqKind
    freq_hz: float
    gain_db: float = 0.0
    q: float = 0.7071


def _channels(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"audio must be (n,) or (channels, n), got shape {x.shape}")
    if x.size and not math.isfinite(float(np.sum(x, dtype=np.float64))):
        raise ParameterError("audio holds NaN or infinite samples")
    return x.astype(np.float32, copy=False)


def _same_layout(result: np.ndarray, audio: np.ndarray) -> np.ndarray:
    return result[0] if np.asarray(audio).ndim == 1 else result


def _check_rate(sample_rate: int) -> None:
    if sample_rate <= 0:
        raise ParameterError("sample_rate must be positive", field="sample_rate")


def _band_sos(band: EqBand, sample_rate: int) -> list[float]:
    if not 0.0 < band.freq_hz < sample_rate / 2.0:
        raise ParameterError(
            f"EQ frequency {band.freq_hz} Hz must lie in (0, {sample_rate / 2} Hz)"
        )
    if band.q <= 0:
        raise ParameterError("EQ q must be positive")
    w0 = 2.0 * math.pi * band.freq_hz / sample_rate
    cos_w, alpha = math.cos(w0), math.sin(w0) / (2.0 * band.q)
    a_lin = 10.0 ** (band.gain_db / 40.0)
    if band.kind == "highpass":
        b = [(1 + cos_w) / 2, -(1 + cos_w), (1 + cos_w) / 2]
        a = [1 + alpha, -2 * cos_w, 1 - alpha]
    elif band.kind == "lowpass":
        b = [(1 - cos_w) / 2, 1 - cos_w, (1 - cos_w) / 2]
        a = [1 + alpha, -2 * cos_w, 1 - alpha]
    elif band.kind == "peaking":
        b = [1 + alpha * a_lin, -2 * cos_w, 1 - alpha * a_lin]
        a = [1 + alpha / a_lin, -2 * cos_w, 1 - alpha / a_lin]
    elif band.kind in ("low_shelf", "high_shelf"):
        sq = 2.0 * math.sqrt(a_lin) * alpha
        sign = 1.0 if band.kind == "low_shelf" else -1.0
        b = [
            a_lin * ((a_lin + 1) - sign * (a_lin - 1) * cos_w + sq),
            sign * 2 * a_lin * ((a_lin - 1) - sign * (a_lin + 1) * cos_w),
            a_lin * ((a_lin + 1) - sign * (a_lin - 1) * cos_w - sq),
        ]
        a = [
            (a_lin + 1) + sign * (a_lin - 1) * cos_w + sq,
            -sign * 2 * ((a_lin - 1) + sign * (a_lin + 1) * cos_w),
            (a_lin + 1) + sign * (a_lin - 1) * cos_w - sq,
        ]
    else:
        raise ParameterError(f"unknown EQ kind {band.kind!r}")
    return [b[0] / a[0], b[1] / a[0], b[2] / a[0], 1.0, a[1] / a[0], a[2] / a[0]]


@cache
def eq_sos(bands: tuple[EqBand, ...], sample_rate: int) -> np.ndarray:
    """Second-order sections of a chain of EQ bands (cached)."""
    sos = np.array([_band_sos(band, sample_rate) for band in bands], dtype=np.float64)
    sos.setflags(write=False)
    return sos


def biquad_eq(audio: np.ndarray, *, sample_rate: int, bands: Sequence[EqBand]) -> np.ndarray:
    """Filter mono or (channels, n) audio through `bands` in order (one `sosfilt` call)."""
    _check_rate(sample_rate)
    x = _channels(audio)
    if not bands:
        return _same_layout(x.copy(), audio)
    sos = np.array(eq_sos(tuple(bands), sample_rate))
    y = signal.sosfilt(sos, x, axis=-1).astype(np.float32, copy=False)
    return _same_layout(y, audio)


def pan_mono(mono: np.ndarray, *, pan: float) -> np.ndarray:
    """Constant-power pan of mono audio: pan -1 (left) .. 1 (right) → (2, n) float32."""
    if not -1.0 <= pan <= 1.0:
        raise ParameterError(f"pan must be in [-1, 1], got {pan}", field="pan")
    x = np.asarray(mono, dtype=np.float32)
    if x.ndim != 1:
        raise ParameterError(f"pan_mono wants mono audio (n,), got shape {x.shape}")
    theta = (pan + 1.0) * math.pi / 4.0
    out = np.empty((2, x.size), dtype=np.float32)
    np.multiply(x, np.float32(math.cos(theta)), out=out[0])
    np.multiply(x, np.float32(math.sin(theta)), out=out[1])
    return out


# --------------------------------------------------------------------------- control signals


def _one_pole(x: np.ndarray, time_s: float, rate_hz: float) -> np.ndarray:
    """Unity-gain one-pole low-pass with time constant `time_s`, starting from x[0]."""
    if time_s <= 0:
        return x.astype(np.float64)
    coef = math.exp(-1.0 / (time_s * rate_hz))
    zi = np.array([coef * float(x[0])]) if x.size else None
    if zi is None:
        return x.astype(np.float64)
    y, _ = signal.lfilter([1.0 - coef], [1.0, -coef], x, zi=zi)
    return np.asarray(y)


def _attack_release(x: np.ndarray, attack_s: float, release_s: float, rate_hz: float) -> np.ndarray:
    """Asymmetric smoothing of a rising-is-more control: fast up (attack), slow down (release).

    The maximum of an attack-time and a release-time one-pole follows rises at the attack
    speed and falls at the release speed, with no per-sample loop.
    """
    return np.asarray(np.maximum(_one_pole(x, attack_s, rate_hz), _one_pole(x, release_s, rate_hz)))


def _block_peak(x: np.ndarray, block: int) -> np.ndarray:
    """Max |x| over channels and blocks of `block` samples (float32; the last may be short),
    a chunk at a time: no full-length copy of |x|."""
    n = x.shape[-1]
    out = np.empty(-(-n // block), dtype=np.float32)
    chunk = block * _PEAK_CHUNK_BLOCKS
    for start in range(0, n, chunk):
        mags = np.abs(x[:, start : start + chunk])
        top = mags[0]
        for row in mags[1:]:
            np.maximum(top, row, out=top)
        peaks = np.maximum.reduceat(top, np.arange(0, top.size, block))
        out[start // block : start // block + peaks.size] = peaks
    return out


def _knots_to_samples(
    knots: np.ndarray, block: int, n: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Linear interpolation between knots placed every `block` samples (knot k at k*block),
    float32 [n], written into `out` when given."""
    n_seg = -(-n // block)
    if knots.size < n_seg + 1:
        knots = np.concatenate([knots, np.repeat(knots[-1:], n_seg + 1 - knots.size)])
    start = knots[:n_seg].astype(np.float32)
    slope = (knots[1 : n_seg + 1] - knots[:n_seg]).astype(np.float32)
    frac = np.arange(block, dtype=np.float32) / np.float32(block)
    if block <= _STRIDED_BLOCK:  # a pass per position in the block: long inner loops
        dest = np.empty(n, dtype=np.float32) if out is None else out
        for j in range(block):
            view = dest[j::block]
            np.multiply(slope[: view.size], frac[j], out=view)
            view += start[: view.size]
        return dest
    curve = np.empty((n_seg, block), dtype=np.float32)
    np.multiply(slope[:, None], frac[None, :], out=curve)
    curve += start[:, None]
    if out is None:
        return np.asarray(curve.reshape(-1)[:n])
    out[:] = curve.reshape(-1)[:n]
    return out


def compressor_gain_db(
    level_db: np.ndarray, *, threshold_db: float, ratio: float, knee_db: float
) -> np.ndarray:
    """Static gain reduction (dB, >= 0) of a soft-knee compressor for input levels in dB."""
    over = level_db - threshold_db
    slope = 1.0 - 1.0 / ratio
    reduction = np.where(over > knee_db / 2.0, slope * over, 0.0)
    if knee_db > 0:
        in_knee = np.abs(over) <= knee_db / 2.0
        reduction = np.where(
            in_knee, slope * (over + knee_db / 2.0) ** 2 / (2.0 * knee_db), reduction
        )
    return np.asarray(reduction)


def compress(
    audio: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    attack_ms: float,
    release_ms: float,
    makeup_db: float = 0.0,
    knee_db: float = 6.0,
) -> np.ndarray:
    """Feed-forward peak compressor, channels linked; returns audio of the same layout."""
    _check_rate(sample_rate)
    if ratio < 1.0 or attack_ms < 0 or release_ms < 0 or knee_db < 0:
        raise ParameterError("compressor needs ratio >= 1 and non-negative times and knee")
    x = _channels(audio)
    if x.shape[1] == 0:
        return _same_layout(x.copy(), audio)
    curve = compressor_curve(
        x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=ratio, attack_ms=attack_ms,
        release_ms=release_ms, makeup_db=makeup_db, knee_db=knee_db,
    )  # fmt: skip
    return _same_layout(x * curve[None, :], audio)


def compressor_curve(
    x: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    attack_ms: float,
    release_ms: float,
    makeup_db: float = 0.0,
    knee_db: float = 6.0,
) -> np.ndarray:
    """The per-sample linear gain `compress` applies to (channels, n) audio, shape [n]."""
    gain = compressor_knots(
        _block_peak(x, CONTROL_BLOCK), sample_rate=sample_rate, threshold_db=threshold_db,
        ratio=ratio, attack_ms=attack_ms, release_ms=release_ms, makeup_db=makeup_db,
        knee_db=knee_db,
    )  # fmt: skip
    return _knots_to_samples(gain, CONTROL_BLOCK, x.shape[1])


def compressor_knots(
    peaks: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    attack_ms: float,
    release_ms: float,
    makeup_db: float = 0.0,
    knee_db: float = 6.0,
) -> np.ndarray:
    """The compressor's linear gain at every `CONTROL_BLOCK`-th sample from the peaks of
    those blocks (`block_peaks`): all a compressor needs of the audio, so a long signal can
    be read for its peaks a block at a time and gained a block at a time."""
    rate = sample_rate / CONTROL_BLOCK
    out = np.empty(peaks.size, dtype=np.float64)
    states: list[np.ndarray | None] = [None, None]
    for start in range(0, peaks.size, _KNOT_CHUNK):  # a stretch at a time, the state carried
        level_db = 20.0 * np.log10(np.maximum(peaks[start : start + _KNOT_CHUNK], 1e-9))
        reduction = compressor_gain_db(
            level_db, threshold_db=threshold_db, ratio=ratio, knee_db=knee_db
        )
        attack, states[0] = _one_pole_from(reduction, attack_ms / 1000.0, rate, states[0])
        release, states[1] = _one_pole_from(reduction, release_ms / 1000.0, rate, states[1])
        smoothed = np.maximum(attack, release)
        out[start : start + reduction.size] = 10.0 ** ((makeup_db - smoothed) / 20.0)
    return out


def _one_pole_from(
    x: np.ndarray, time_s: float, rate_hz: float, state: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """`_one_pole` of a stretch of a longer signal: from `state` (None: the signal's start)."""
    if time_s <= 0 or x.size == 0:
        return x.astype(np.float64), state
    coef = math.exp(-1.0 / (time_s * rate_hz))
    zi = np.array([coef * float(x[0])]) if state is None else state
    y, zf = signal.lfilter([1.0 - coef], [1.0, -coef], x, zi=zi)
    return np.asarray(y), zf


def knots_between(knots: np.ndarray, block: int, start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of `_knots_to_samples(knots, block, n)`, computed from the knots
    that reach them alone: the same values, a block at a time."""
    first, skip = divmod(start, block)
    count = stop - start + skip
    curve = _knots_to_samples(knots[first : first + -(-count // block) + 1], block, count)
    return curve[skip:]


def block_peaks(x: np.ndarray, block: int = 0) -> np.ndarray:
    """Max |x| over channels per block of `block` samples (default `CONTROL_BLOCK`)."""
    return _block_peak(x, block or CONTROL_BLOCK)


def duck_curve(
    *,
    n_samples: int,
    sample_rate: int,
    depth_db: float,
    release_ms: float,
    attack_ms: float = 4.0,
    onsets_s: np.ndarray | None = None,
    key_signal: np.ndarray | None = None,
) -> np.ndarray:
    """Per-sample linear gain that dips by `depth_db` at each trigger and recovers.

    Triggers are onset times (s) or a key signal (its block-peak envelope, normalised).
    """
    knots = duck_knots(
        n_samples=n_samples, sample_rate=sample_rate, depth_db=depth_db,
        release_ms=release_ms, attack_ms=attack_ms, onsets_s=onsets_s, key_signal=key_signal,
    )  # fmt: skip
    return _knots_to_samples(knots, CONTROL_BLOCK, n_samples)


def duck_knots(
    *,
    n_samples: int,
    sample_rate: int,
    depth_db: float,
    release_ms: float,
    attack_ms: float = 4.0,
    onsets_s: np.ndarray | None = None,
    key_signal: np.ndarray | None = None,
) -> np.ndarray:
    """`duck_curve` at every `CONTROL_BLOCK`-th sample (`knots_between` turns any stretch
    of them into samples)."""
    rate = sample_rate / CONTROL_BLOCK
    if onsets_s is not None:
        n_blocks = -(-n_samples // CONTROL_BLOCK) + 1
        onsets = np.asarray(onsets_s, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(onsets)):
            raise ParameterError("sidechain onsets must be finite")
        idx = np.round(onsets * rate).astype(np.int64)
        idx = np.sort(idx[(idx >= 0) & (idx < n_blocks)])
        decay = math.exp(-1.0 / (max(release_ms / 1000.0, 1e-6) * rate))
        out = np.empty(n_blocks, dtype=np.float64)
        held = np.zeros(1)
        state: np.ndarray | None = None
        for start in range(0, n_blocks, _KNOT_CHUNK):  # a stretch at a time, state carried
            trigger = np.zeros(min(_KNOT_CHUNK, n_blocks - start))
            hits = idx[(idx >= start) & (idx < start + trigger.size)] - start
            trigger[hits] = 1.0
            env, held = signal.lfilter([1.0], [1.0, -decay], trigger, zi=held)
            env = np.minimum(env, 1.0)
            env, state = _one_pole_from(env, attack_ms / 1000.0, rate, state)
            out[start : start + env.size] = 10.0 ** (-depth_db * np.clip(env, 0.0, 1.0) / 20.0)
        return out
    if key_signal is not None:
        peaks = _block_peak(_channels(key_signal), CONTROL_BLOCK)
        top = float(peaks.max()) if peaks.size else 0.0
        level = peaks / top if top > 0 else np.zeros_like(peaks)
        env = _attack_release(level, attack_ms / 1000.0, release_ms / 1000.0, rate)
        env = np.concatenate([env, env[-1:]])
    else:
        raise ParameterError("ducking needs onset times or a key signal")
    return np.asarray(10.0 ** (-depth_db * np.clip(env, 0.0, 1.0) / 20.0))


def sidechain_duck(
    audio: np.ndarray,
    *,
    key: np.ndarray,
    sample_rate: int,
    depth_db: float,
    release_ms: float,
    key_kind: Literal["onsets", "signal"] = "onsets",
    attack_ms: float = 4.0,
) -> np.ndarray:
    """Duck `audio` by `depth_db` at each kick: `key` holds onset times (s) or a trigger signal."""
    _check_rate(sample_rate)
    if depth_db < 0 or release_ms <= 0:
        raise ParameterError("ducking needs depth_db >= 0 and release_ms > 0")
    x = _channels(audio)
    if key_kind == "onsets":
        curve = duck_curve(
            n_samples=x.shape[1], sample_rate=sample_rate, depth_db=depth_db,
            release_ms=release_ms, attack_ms=attack_ms, onsets_s=key,
        )  # fmt: skip
    elif key_kind == "signal":
        if np.asarray(key).shape[-1] != x.shape[1]:
            raise ParameterError("a sidechain key signal must be as long as the audio")
        curve = duck_curve(
            n_samples=x.shape[1], sample_rate=sample_rate, depth_db=depth_db,
            release_ms=release_ms, attack_ms=attack_ms, key_signal=key,
        )  # fmt: skip
    else:
        raise ParameterError(f"key_kind must be 'onsets' or 'signal', got {key_kind!r}")
    return _same_layout(x * curve[None, :], audio)


# --------------------------------------------------------------------------- reverb


@cache
def _reverb_ir(rate: int, room_size: float, decay_s: float, damping: float) -> np.ndarray:
    """Stereo impulse response (2, L) at `rate`: early reflections, then a diffuse tail.

    The tail is decorrelated noise in three bands with their own RT60 (high frequencies
    die sooner with more damping); each channel has unit energy.
    """
    rng = np.random.default_rng(7)
    length = int(min(1.2 * decay_s + 0.1, 8.0) * rate)
    t = np.arange(length) / rate
    spec = scipy.fft.rfft(rng.standard_normal((2, length)), axis=-1)
    freqs = np.arange(spec.shape[-1]) * rate / length
    low = 1.0 / (1.0 + (freqs / 500.0) ** 4)
    high = 1.0 - 1.0 / (1.0 + (freqs / 4000.0) ** 4)
    mid = np.clip(1.0 - low - high, 0.0, 1.0)
    rt60 = (decay_s * (1.15 - 0.15 * damping), decay_s, decay_s * (1.0 - 0.7 * damping))
    tail = np.zeros((2, length))
    for mask, t60 in zip((low, mid, high), rt60, strict=True):
        band = scipy.fft.irfft(spec * mask, length, axis=-1)
        tail += band * np.exp(-6.9078 * t / max(t60, 0.05))
    build_up = 1.0 - np.exp(-t / (0.008 + 0.04 * room_size))
    tail *= build_up
    predelay = int((0.004 + 0.02 * room_size) * rate)
    ir = np.zeros((2, length))
    ir[:, predelay:] = tail[:, : length - predelay]
    early_times = 0.004 + room_size * np.array(
        [0.011, 0.017, 0.023, 0.031, 0.037, 0.047, 0.053, 0.061]
    )
    for ch in range(2):
        jitter = rng.uniform(0.85, 1.15, early_times.size)
        taps = np.minimum((early_times * jitter * rate).astype(np.int64), length - 1)
        gains = 0.8 * np.exp(-early_times / (0.3 * decay_s)) * rng.choice([-1.0, 1.0], taps.size)
        np.add.at(ir[ch], taps, gains * np.sqrt(np.mean(tail[ch] ** 2)) * 30.0)
    ir /= np.sqrt(np.sum(ir**2, axis=-1, keepdims=True))
    out = ir.astype(np.float32)
    out.setflags(write=False)
    return out


@cache
def _ir_spectrum(
    rate: int, room_size: float, decay_s: float, damping: float, n_fft: int
) -> np.ndarray:
    spec = scipy.fft.rfft(_reverb_ir(rate, room_size, decay_s, damping), n_fft, axis=-1)
    spec.setflags(write=False)
    return np.asarray(spec)


def reverb(
    audio: np.ndarray,
    *,
    sample_rate: int,
    room_size: float,
    decay_s: float,
    damping: float,
    wet: float,
) -> np.ndarray:
    """Stereo reverb of mono or (channels, n) audio → (2, n) float32: (1-wet)·dry + wet·tail.

    The input is summed to mono, decimated to 11-16 kHz (block means; the tail is dark anyway), convolved by FFT
    with a cached synthetic stereo impulse response and interpolated back.
    """
    _check_rate(sample_rate)
    for name, value, lo, hi in (
        ("room_size", room_size, 0.0, 1.0),
        ("damping", damping, 0.0, 1.0),
        ("wet", wet, 0.0, 1.0),
        ("decay_s", decay_s, 0.05, 8.0),
    ):
        if not lo <= value <= hi:
            raise ParameterError(f"reverb {name} must be in [{lo}, {hi}], got {value}", field=name)
    x = _channels(audio)
    n = x.shape[1]
    if n == 0 or wet == 0.0:
        return _stereo_dry(x)
    mono = x[0] if x.shape[0] == 1 else x.mean(axis=0)
    factor = max(1, sample_rate // _REVERB_RATE_HZ)
    rate = sample_rate // factor
    n_dec = -(-n // factor)
    low_rate = np.zeros(n_dec, dtype=np.float32)  # means of `factor` samples (zero-padded)
    for k in range(factor):
        part = mono[k::factor]
        low_rate[: part.size] += part
    low_rate /= np.float32(factor)
    key = (rate, round(room_size, 4), round(decay_s, 4), round(damping, 4))
    ir_len = _reverb_ir(*key).shape[1]
    n_fft = scipy.fft.next_fast_len(n_dec + ir_len - 1, real=True)
    spec = scipy.fft.rfft(low_rate, n_fft)[None, :] * _ir_spectrum(*key, n_fft)
    tail = scipy.fft.irfft(spec, n_fft, axis=-1, workers=2)[:, :n_dec].astype(np.float32)
    out = np.empty((2, n), dtype=np.float32)
    for ch in range(2):
        _knots_to_samples(np.concatenate([tail[ch], tail[ch, -1:]]), factor, n, out=out[ch])
    if wet < 1.0:
        out *= np.float32(wet)
        out += np.float32(1.0 - wet) * _stereo_dry(x)
    return out


def _stereo_dry(x: np.ndarray) -> np.ndarray:
    """(channels, n) → a new (2, n) float32: stereo kept, mono doubled, more channels mixed."""
    if x.shape[0] == 2:
        return np.array(x, dtype=np.float32)
    source = x[:1] if x.shape[0] == 1 else x.mean(axis=0, keepdims=True)
    return np.repeat(source, 2, axis=0).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- limiter, DC


def true_peak_limit(
    audio: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float = -1.0,
    lookahead_ms: float = 1.5,
    release_ms: float = 60.0,
) -> np.ndarray:
    """Look-ahead limiter holding the 4x-oversampled true peak at or below `ceiling_dbtp`.

    Per block of 16 samples the needed gain (ceiling / true peak) is taken; the gain curve
    is the minimum over the look-ahead window, averaged over the same window (so it has
    reached the needed value when the peak arrives), released by a one-pole, and followed
    by a final scalar trim if the oversampled measure of the result still exceeds the ceiling.
    """
    _check_rate(sample_rate)
    if ceiling_dbtp > 0.0 or not math.isfinite(ceiling_dbtp):
        raise ParameterError("ceiling_dbtp must be finite and <= 0", field="ceiling_dbtp")
    x = _channels(audio)
    y, _, _ = limit_true_peak(
        x,
        sample_rate=sample_rate,
        ceiling_dbtp=ceiling_dbtp,
        lookahead_ms=lookahead_ms,
        release_ms=release_ms,
    )
    return _same_layout(y, audio)


def limit_true_peak(
    x: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float,
    lookahead_ms: float = 1.5,
    release_ms: float = 60.0,
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """`true_peak_limit` on (channels, n) float32 audio.

    Also returns the output's true peak (linear) and the gain curve applied (None: unity).
    """
    n = x.shape[1]
    if n == 0:
        return x.copy(), 0.0, None
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    blocks = block_true_peak_bounds(x, threshold=ceiling)
    peaks = blocks.peaks
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if float(need.min()) >= 1.0:
        return x.copy(), float(peaks.max()), None
    released = limiter_knots(
        need, sample_rate=sample_rate, lookahead_ms=lookahead_ms, release_ms=release_ms
    )
    gain = _knots_to_samples(released, TP_BLOCK, n)
    y = x * gain[None, :]
    # only blocks that the bound from the input's peaks and the gain cannot clear are measured
    measured = max_true_peak(y, upper=gained_true_peak_bounds(blocks, gain))
    if measured > ceiling:
        trim = ceiling / measured * 0.9999
        y *= np.float32(trim)
        gain *= np.float32(trim)
        measured *= trim
    return y, measured, gain


def limiter_knots(
    need: np.ndarray, *, sample_rate: int, lookahead_ms: float = 1.5, release_ms: float = 60.0
) -> np.ndarray:
    """The limiter's gain at every `TP_BLOCK`-th sample (one knot more than blocks) from the
    gain each block needs (ceiling / its true peak, at most 1): the minimum over the
    look-ahead window, averaged over it, released by a one-pole. Computed a stretch of
    knots at a time (each with the look-ahead it reads, the one-pole's state carried), so
    a long piece needs no more than its result."""
    window = max(1, math.ceil(lookahead_ms / 1000.0 * sample_rate / TP_BLOCK))
    n_knots = need.size + 1
    out = np.empty(n_knots, dtype=np.float32)
    rate = sample_rate / TP_BLOCK
    coef = math.exp(-1.0 / (release_ms / 1000.0 * rate)) if release_ms > 0 else 0.0
    state: np.ndarray | None = None
    for start in range(0, n_knots, _KNOT_CHUNK):
        stop = min(start + _KNOT_CHUNK, n_knots)
        first = max(0, start - window + 1)  # the averaging reads this far back
        ahead = _look_ahead(need, first, stop, window)
        padded = np.concatenate([np.ones(max(0, window - 1 - start + first)), ahead])
        csum = np.concatenate([[0.0], np.cumsum(padded)])
        averaged = (csum[window:] - csum[:-window])[: stop - start] / window
        if coef == 0.0:
            released = averaged
        else:
            if state is None:
                state = np.array([coef * float(averaged[0])])
            released, state = signal.lfilter([1.0 - coef], [1.0, -coef], averaged, zi=state)
        out[start:stop] = np.minimum(averaged, released)
    return out


def _look_ahead(need: np.ndarray, start: int, stop: int, window: int) -> np.ndarray:
    """Knots [start, stop) of the minimum over each knot and the `window` knots after it,
    where knot k bounds the blocks on both sides of it (the last knot repeats the end)."""
    last = need.size
    index = np.minimum(np.arange(start, min(stop + window, last + 1)), last)
    knots = np.minimum(need[np.minimum(index, last - 1)], need[np.maximum(index - 1, 0)])
    ahead = minimum_filter1d(knots, size=window + 1, origin=-((window + 1) // 2), mode="nearest")
    return np.asarray(ahead[: stop - start])


def remove_dc(audio: np.ndarray, *, sample_rate: int, cutoff_hz: float = 8.0) -> np.ndarray:
    """First-order DC blocker (high-pass at `cutoff_hz`)."""
    _check_rate(sample_rate)
    x = _channels(audio)
    r = math.exp(-2.0 * math.pi * cutoff_hz / sample_rate)
    y = signal.lfilter([1.0, -1.0], [1.0, -r], x, axis=-1).astype(np.float32)
    return _same_layout(y, audio)


def vinyl_noise(
    n_samples: int,
    *,
    sample_rate: int,
    crackles_per_s: float,
    crackle_db: float,
    hiss_db: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A record's surface: soft hiss and sparse crackles, mono float32 [n_samples].

    Parameters
    ----------
    crackles_per_s : mean rate of clicks (Poisson), each a sub-millisecond decaying burst
        of random size and sign.
    crackle_db, hiss_db : peak level of the loudest click and RMS of the hiss (dBFS).
    rng : where the clicks fall and the noise; same generator state, same surface.
    """
    _check_rate(sample_rate)
    if n_samples <= 0:
        return np.zeros(0, dtype=np.float32)
    hiss = rng.standard_normal(n_samples)
    # darker than white: a record's hiss sits under the cymbals
    hiss = signal.lfilter([0.25], [1.0, -0.75], hiss)
    hiss *= 10.0 ** (hiss_db / 20.0) / max(float(np.sqrt(np.mean(hiss**2))), 1e-12)
    clicks = np.zeros(n_samples)
    count = rng.poisson(crackles_per_s * n_samples / sample_rate)
    where = rng.integers(0, n_samples, size=count)
    sizes = rng.uniform(0.1, 1.0, size=count) ** 3 * rng.choice([-1.0, 1.0], size=count)
    np.add.at(clicks, where, sizes * 10.0 ** (crackle_db / 20.0))
    burst = np.exp(-np.arange(max(int(0.0006 * sample_rate), 1)) / (0.00015 * sample_rate))
    crackle = signal.fftconvolve(clicks, burst)[:n_samples]
    return np.asarray(hiss + crackle, dtype=np.float32)
