"""DDSP synthesis (Engel et al. 2020): the maths, and the fast note renderer the engine uses.

`harmonic_synthesis` and `filtered_noise` are the reference DDSP synthesizers: frame-rate
controls (f0, amplitude, harmonic distribution; noise band magnitudes) upsampled to audio
rate. `render_notes` plays the same model for a list of notes, fast: for each (preset,
pitch, sample rate) it builds once a loop of exactly `m` periods in `L` samples from the
preset's harmonic distribution by an inverse FFT (harmonic k sits on bin k*m, so only
harmonics below Nyquist exist and the loop is seamless), then every note is that loop
tiled from a random phase, shaped by an ADSR envelope, crossfaded from a bright to a dark
loop (brightness decay) and joined by a looped band of filtered noise.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import scipy.fft

from soundstar.engine.timbres import TimbrePreset
from soundstar.errors import ParameterError

_REF_RMS = 0.2  # RMS of one full-velocity note's loop at the reference pitch
_REF_PITCH = 60.0
_END_FADE_S = 0.005
_MIN_RELEASE_S = 0.012
_MIN_ATTACK_S = 0.001
_LOOP_CACHE_BYTES = 256 * 1024 * 1024
_BRIGHT_STEPS = 4
_NOISE_LOOP_S = 1.5
_UNISON_LOOP_S = 0.75


# --------------------------------------------------------------------------- conversions


def midi_to_hz(pitch_midi: np.ndarray | float) -> np.ndarray:
    """Equal-tempered frequency (Hz) of MIDI pitch numbers (A4 = 69 = 440 Hz)."""
    return np.asarray(440.0 * 2.0 ** ((np.asarray(pitch_midi, dtype=np.float64) - 69.0) / 12.0))


def hz_to_midi(f0_hz: np.ndarray | float) -> np.ndarray:
    """MIDI pitch number (fractional) of frequencies in Hz; f0 must be > 0."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    if np.any(f0 <= 0):
        raise ParameterError("frequencies must be positive to convert to MIDI pitch", field="f0_hz")
    return np.asarray(69.0 + 12.0 * np.log2(f0 / 440.0))


def fold_into_range(pitch_midi: np.ndarray, lo_midi: float, hi_midi: float) -> np.ndarray:
    """Transpose each pitch by whole octaves into [lo_midi, hi_midi].

    With a range narrower than an octave some pitch classes cannot fit; those land on
    the octave placement nearest the range and are then clipped into it.
    """
    if not hi_midi >= lo_midi:
        raise ParameterError(f"pitch range [{lo_midi}, {hi_midi}] is empty", field="f0_range")
    pitch = np.asarray(pitch_midi, dtype=np.float64)
    up = np.ceil(np.maximum(lo_midi - pitch, 0.0) / 12.0)
    pitch = pitch + 12.0 * up
    down = np.ceil(np.maximum(pitch - hi_midi, 0.0) / 12.0)
    pitch = pitch - 12.0 * down
    return np.asarray(np.clip(pitch, lo_midi, hi_midi))


# --------------------------------------------------------------------------- reference DDSP


def _upsample_frames(frames: np.ndarray, n_samples: int) -> np.ndarray:
    """Linear interpolation of frame-rate controls [n_frames, ...] to [n_samples, ...]."""
    n_frames = frames.shape[0]
    if n_frames == 1:
        return np.repeat(frames, n_samples, axis=0)
    pos = np.linspace(0.0, n_frames - 1.0, n_samples)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_frames - 2)
    frac = (pos - i0).reshape((-1,) + (1,) * (frames.ndim - 1))
    return np.asarray(frames[i0] * (1.0 - frac) + frames[i0 + 1] * frac)


def harmonic_synthesis(
    f0_hz: np.ndarray,
    amplitude: np.ndarray,
    harmonic_distribution: np.ndarray,
    *,
    sample_rate: int,
    n_samples: int,
) -> np.ndarray:
    """Additive harmonic oscillator bank driven by frame-rate controls.

    Parameters
    ----------
    f0_hz : fundamental frequency (Hz), shape [n_frames].
    amplitude : overall amplitude (linear), shape [n_frames].
    harmonic_distribution : relative harmonic amplitudes, shape [n_frames, n_harmonics].
    sample_rate : audio sample rate (Hz).
    n_samples : length of the output.

    Returns float32 audio [n_samples]. Controls are linearly upsampled; at every sample the
    harmonics at or above Nyquist are zeroed and the rest renormalised to sum to one.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    amp = np.asarray(amplitude, dtype=np.float64)
    dist = np.asarray(harmonic_distribution, dtype=np.float64)
    if f0.ndim != 1 or amp.shape != f0.shape or dist.ndim != 2 or dist.shape[0] != f0.shape[0]:
        raise ParameterError(
            "harmonic_synthesis wants f0_hz [n_frames], amplitude [n_frames] and "
            f"harmonic_distribution [n_frames, n_harmonics]; got {f0.shape}, {amp.shape}, {dist.shape}"
        )
    if f0.shape[0] < 1 or n_samples < 1 or sample_rate <= 0:
        raise ParameterError("need at least one frame, one sample and a positive sample rate")
    if np.any(f0 < 0) or np.any(dist < 0):
        raise ParameterError("f0 and the harmonic distribution must be non-negative")
    f0_audio = _upsample_frames(f0, n_samples)
    amp_audio = _upsample_frames(amp, n_samples)
    dist_audio = _upsample_frames(dist, n_samples)
    harmonics = np.arange(1, dist.shape[1] + 1, dtype=np.float64)
    below_nyquist = f0_audio[:, None] * harmonics[None, :] < sample_rate / 2.0
    dist_audio = np.where(below_nyquist, dist_audio, 0.0)
    total = dist_audio.sum(axis=1, keepdims=True)
    dist_audio = np.divide(dist_audio, total, out=np.zeros_like(dist_audio), where=total > 0)
    phase = 2.0 * np.pi * np.cumsum(f0_audio / sample_rate)
    phase = np.mod(phase, 2.0 * np.pi)
    waves = np.sin(phase[:, None] * harmonics[None, :])
    return np.asarray(amp_audio * np.sum(waves * dist_audio, axis=1), dtype=np.float32)


def filtered_noise(
    magnitudes: np.ndarray, *, n_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """White noise filtered frame by frame by band magnitudes (DDSP's filtered-noise synth).

    Parameters
    ----------
    magnitudes : linear magnitudes of `n_bands` bands spaced evenly from 0 Hz to Nyquist,
        shape [n_frames, n_bands], n_bands >= 2. Each frame of `ceil(n_samples/n_frames)`
        samples is convolved with the zero-phase, Hann-windowed impulse response of its
        magnitudes, and the frames are overlap-added.
    n_samples : length of the output.
    rng : the noise source.

    Returns float32 audio [n_samples].
    """
    mags = np.asarray(magnitudes, dtype=np.float64)
    if mags.ndim != 2 or mags.shape[0] < 1 or mags.shape[1] < 2:
        raise ParameterError(f"magnitudes must be [n_frames, n_bands >= 2], got {mags.shape}")
    if np.any(mags < 0) or not np.all(np.isfinite(mags)):
        raise ParameterError("noise magnitudes must be finite and non-negative")
    if n_samples < 1:
        raise ParameterError("n_samples must be positive", field="n_samples")
    n_frames, n_bands = mags.shape
    ir_size = 2 * (n_bands - 1)
    hop = -(-n_samples // n_frames)
    noise = rng.uniform(-1.0, 1.0, n_frames * hop).reshape(n_frames, hop)
    ir = np.roll(scipy.fft.irfft(mags, n=ir_size, axis=1), ir_size // 2, axis=1)
    ir *= np.hanning(ir_size + 1)[:ir_size]
    seg = hop + ir_size - 1
    n_fft = scipy.fft.next_fast_len(seg, real=True)
    spec = scipy.fft.rfft(noise, n_fft, axis=1) * scipy.fft.rfft(ir, n_fft, axis=1)
    frames = scipy.fft.irfft(spec, n_fft, axis=1)[:, :seg]
    n_chunks = -(-seg // hop)
    padded = np.zeros((n_frames, n_chunks * hop))
    padded[:, :seg] = frames
    chunks = padded.reshape(n_frames, n_chunks, hop)
    out = np.zeros((n_frames + n_chunks, hop))
    for c in range(n_chunks):
        out[c : c + n_frames] += chunks[:, c, :]
    start = ir_size // 2
    return np.asarray(out.reshape(-1)[start : start + n_samples], dtype=np.float32)


# --------------------------------------------------------------------------- hints


def hint_loudness_db(loudness_target: float) -> float:
    """The gain offset (dB) meant by a spec `loudness_target`.

    A value in [0, 1] is a relative level where 0.7 is the preset's own level (linear
    amplitude scale); a negative value is already a dB offset. Clamped to [-24, +6] dB.
    """
    if loudness_target > 1.0 or not math.isfinite(loudness_target):
        raise ParameterError(
            f"loudness_target must be in [0, 1] or a negative dB offset, got {loudness_target}",
            field="loudness_target",
        )
    if loudness_target >= 0.0:
        db = 20.0 * math.log10(max(loudness_target, 1e-3) / 0.7)
    else:
        db = loudness_target
    return float(min(max(db, -24.0), 6.0))


def apply_hints(
    preset: TimbrePreset, *, harmonic_mix: float | None, loudness_db: float | None
) -> TimbrePreset:
    """A copy of `preset` moved by the spec's `ddsp_hints`.

    `harmonic_mix` in [0, 1] (0.5 leaves the preset as it is): towards 1 the noise
    component fades out and the spectrum tilts brighter (up to +3 dB/oct); towards 0 the
    noise doubles and the spectrum darkens. `loudness_db` is added to the preset's gain.
    """
    update: dict[str, object] = {}
    if harmonic_mix is not None:
        if not 0.0 <= harmonic_mix <= 1.0:
            raise ParameterError(
                f"harmonic_mix must be in [0, 1], got {harmonic_mix}", field="harmonic_mix"
            )
        shift = (harmonic_mix - 0.5) * 6.0
        update["tilt_db_per_oct"] = float(np.clip(preset.tilt_db_per_oct + shift, -48.0, 12.0))
        update["noise_level"] = float(min(preset.noise_level * 2.0 * (1.0 - harmonic_mix), 4.0))
    if loudness_db is not None:
        if not math.isfinite(loudness_db):
            raise ParameterError("loudness_db must be finite", field="loudness_db")
        update["gain_db"] = float(np.clip(preset.gain_db + loudness_db, -40.0, 24.0))
    return TimbrePreset(**{**preset.model_dump(), **update})


# --------------------------------------------------------------------------- loops


def _smooth_lengths(lo: int, hi: int) -> np.ndarray:
    """All 2^a 3^b 5^c integers in [lo, hi] (fast FFT sizes)."""
    values = []
    p2 = 1
    while p2 <= hi:
        p3 = p2
        while p3 <= hi:
            p5 = p3
            while p5 <= hi:
                if p5 >= lo:
                    values.append(p5)
                p5 *= 5
            p3 *= 3
        p2 *= 2
    return np.array(sorted(values), dtype=np.int64)


def _loop_geometry(f0_hz: float, sample_rate: int, min_len: int) -> tuple[int, int]:
    """(L, m): a fast FFT length L >= min_len holding m whole periods, pitch error minimal."""
    lengths = _smooth_lengths(min_len, (13 * min_len) // 10)
    cycles = np.maximum(np.round(f0_hz * lengths / sample_rate), 1.0)
    error = np.abs(cycles * sample_rate / lengths - f0_hz)
    best = int(np.argmin(error))
    return int(lengths[best]), int(cycles[best])


def _harmonic_gains_db(preset: TimbrePreset, ratios: np.ndarray, tilt: float) -> np.ndarray:
    gains = tilt * np.log2(ratios)
    if preset.partial_gains_db is not None:
        gains = gains + np.asarray(preset.partial_gains_db, dtype=np.float64)
    else:
        k = np.round(ratios).astype(np.int64)
        bal = preset.odd_even_balance
        if bal > 0:
            gains = np.where(k % 2 == 0, gains + 20.0 * np.log10(max(1.0 - bal, 1e-3)), gains)
        elif bal < 0:
            odd_upper = (k % 2 == 1) & (k > 1)
            gains = np.where(odd_upper, gains + 20.0 * np.log10(max(1.0 + bal, 1e-3)), gains)
    return np.asarray(gains)


def _body_gain(preset: TimbrePreset, freq_hz: np.ndarray) -> np.ndarray:
    """Linear gain of the preset's fixed resonances and 12 dB/oct cut-offs at `freq_hz`."""
    f = np.maximum(freq_hz, 1e-6)
    db = np.zeros_like(f)
    for formant in preset.formants:
        width = formant.bandwidth_oct / 2.0
        db += formant.gain_db * np.exp(-0.5 * (np.log2(f / formant.freq_hz) / width) ** 2)
    gain = 10.0 ** (db / 20.0)
    if preset.lowcut_hz > 0:
        gain = gain / np.sqrt(1.0 + (preset.lowcut_hz / f) ** 4)
    gain = gain / np.sqrt(1.0 + (f / preset.highcut_hz) ** 4)
    return np.asarray(gain)


def _partial_ratios(preset: TimbrePreset) -> np.ndarray:
    if preset.partial_ratios is not None:
        return np.asarray(preset.partial_ratios, dtype=np.float64)
    return np.arange(1, preset.n_harmonics + 1, dtype=np.float64)


def _phases(preset: TimbrePreset, count: int, voice: int) -> np.ndarray:
    if preset.random_phase or voice > 0:
        seed = zlib.crc32(f"{preset.id}:{voice}".encode())
        return np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi, count)
    return np.full(count, -np.pi / 2.0)


def _unison_ratios(preset: TimbrePreset) -> np.ndarray:
    """Frequency ratio of each unison voice to the note (centre voice first)."""
    voices = preset.unison_voices
    if voices == 1:
        return np.ones(1)
    cents = np.linspace(-preset.unison_detune_cents, preset.unison_detune_cents, voices)
    order = np.argsort(np.abs(cents), kind="stable")
    return np.asarray(2.0 ** (cents[order] / 1200.0))


def _loop_length(preset: TimbrePreset, f0_hz: float, sample_rate: int) -> int:
    ratios = _partial_ratios(preset)
    if preset.unison_voices > 1:
        return int(_UNISON_LOOP_S * sample_rate)
    min_len = int(0.19 * sample_rate)
    if preset.partial_ratios is not None and not np.allclose(ratios, np.round(ratios)):
        min_len = min(max(min_len, int(256 * sample_rate / f0_hz)), 1 << 17)
    return min_len


def _build_loop(preset: TimbrePreset, f0_hz: float, sample_rate: int, dark: bool) -> np.ndarray:
    """One seamless loop (float64) holding whole periods of `f0_hz`, band-limited.

    Partial j of unison voice v sits on FFT bin round(ratio_j * m * detune_v), so only
    partials below Nyquist exist; the centre voice is exactly periodic in the loop, the
    detuned voices are quantised to the loop's bin spacing (below 1 Hz for unison loops).
    """
    ratios = _partial_ratios(preset)
    length, cycles = _loop_geometry(f0_hz, sample_rate, _loop_length(preset, f0_hz, sample_rate))
    true_f0 = cycles * sample_rate / length
    n_bins = length // 2 + 1
    tilt = preset.tilt_db_per_oct + (preset.dark_tilt_db_per_oct if dark else 0.0)
    amp = 10.0 ** (_harmonic_gains_db(preset, ratios, tilt) / 20.0)
    spectrum = np.zeros(n_bins, dtype=np.complex128)
    for voice, detune in enumerate(_unison_ratios(preset)):
        bins = np.round(ratios * cycles * detune).astype(np.int64)
        keep = (bins >= 1) & (bins < length // 2)
        gains = amp[keep]
        if preset.drive == 0.0:
            gains = gains * _body_gain(preset, bins[keep] * sample_rate / length)
        phases = _phases(preset, len(ratios), voice)[keep]
        np.add.at(spectrum, bins[keep], gains * np.exp(1j * phases))
    if preset.drive > 0.0:
        over = 4 * length
        wave = scipy.fft.irfft(spectrum, over)
        peak = float(np.max(np.abs(wave)))
        if peak <= 0.0:
            return np.zeros(length)
        shaped = np.tanh(preset.drive * wave / peak) / np.tanh(preset.drive)
        spectrum = scipy.fft.rfft(shaped)[:n_bins] * (peak * length / over)
        spectrum[0] = 0.0
        spectrum[-1] = 0.0
        spectrum *= _body_gain(preset, np.arange(n_bins) * sample_rate / length)
    del true_f0
    return np.asarray(scipy.fft.irfft(spectrum, length) * length)


@dataclass(frozen=True)
class _Loop:
    """A loop stored twice over (`data2`, length 2L) so any rotation is one slice."""

    data2: np.ndarray
    length: int


class _LoopCache:
    """LRU cache of loops, bounded in bytes; safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._data: OrderedDict[tuple[object, ...], _Loop] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> _Loop | None:
        with self._lock:
            loop = self._data.get(key)
            if loop is not None:
                self._data.move_to_end(key)
            return loop

    def put(self, key: tuple[object, ...], loop: _Loop) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old.data2.nbytes
            self._data[key] = loop
            self._bytes += loop.data2.nbytes
            while self._bytes > self._max_bytes and len(self._data) > 1:
                _, dropped = self._data.popitem(last=False)
                self._bytes -= dropped.data2.nbytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


_LOOPS = _LoopCache(_LOOP_CACHE_BYTES)
_SCALARS: dict[tuple[object, ...], float] = {}
_CURVES: dict[tuple[float, float], np.ndarray] = {}
_VIBRATO: dict[tuple[str, str, int], _Vibrato] = {}


def clear_caches() -> None:
    """Forget every cached loop, curve and level (tests; memory pressure)."""
    _LOOPS.clear()
    _SCALARS.clear()
    _CURVES.clear()
    _VIBRATO.clear()
    _plain_glide.cache_clear()


def _as_loop(wave: np.ndarray) -> _Loop:
    data = wave.astype(np.float32)
    return _Loop(np.concatenate([data, data]), len(data))


def _preset_scale(preset: TimbrePreset, key: str, sample_rate: int) -> float:
    """Linear factor bringing the preset's reference-pitch bright loop to _REF_RMS."""
    skey = ("scale", key, sample_rate)
    if skey not in _SCALARS:
        wave = _build_loop(preset, float(midi_to_hz(_REF_PITCH)), sample_rate, dark=False)
        rms = float(np.sqrt(np.mean(wave**2)))
        _SCALARS[skey] = _REF_RMS / rms if rms > 0 else 0.0
    return _SCALARS[skey]


def _has_dark(preset: TimbrePreset) -> bool:
    return preset.brightness_decay_s > 0 or preset.velocity_brightness > 0


def _tone_loops(
    preset: TimbrePreset, key: str, cents: int, sample_rate: int, scale: float
) -> tuple[_Loop, _Loop | None]:
    """(dark loop, bright-minus-dark loop or None) at pitch `cents`/100, scaled."""
    lkey = (key, cents, sample_rate)
    dark = _LOOPS.get((*lkey, "dark"))
    diff = _LOOPS.get((*lkey, "diff"))
    if dark is not None and (diff is not None or not _has_dark(preset)):
        return dark, diff
    f0 = float(midi_to_hz(cents / 100.0))
    bright_wave = _build_loop(preset, f0, sample_rate, dark=False) * scale
    if _has_dark(preset):
        dark_wave = _build_loop(preset, f0, sample_rate, dark=True) * scale
        dark, diff = _as_loop(dark_wave), _as_loop(bright_wave - dark_wave)
        _LOOPS.put((*lkey, "diff"), diff)
    else:
        dark, diff = _as_loop(bright_wave), None
    _LOOPS.put((*lkey, "dark"), dark)
    return dark, diff


def _mixed_loop(
    preset: TimbrePreset, key: str, cents: int, sample_rate: int, scale: float, level: int
) -> _Loop:
    """dark + (level / _BRIGHT_STEPS) * (bright - dark): a static brightness, cached."""
    mkey = (key, cents, sample_rate, "mix", level)
    loop = _LOOPS.get(mkey)
    if loop is None:
        dark, diff = _tone_loops(preset, key, cents, sample_rate, scale)
        if diff is None or level == 0:
            return dark
        loop = _Loop(dark.data2 + np.float32(level / _BRIGHT_STEPS) * diff.data2, dark.length)
        _LOOPS.put(mkey, loop)
    return loop


def _noise_loop(preset: TimbrePreset, key: str, sample_rate: int) -> _Loop:
    """A seamless loop of noise coloured by a log-Gaussian band, at RMS _REF_RMS."""
    nkey = (key, "noise", sample_rate)
    cached = _LOOPS.get(nkey)
    if cached is not None:
        return cached
    length = scipy.fft.next_fast_len(int(_NOISE_LOOP_S * sample_rate), real=True)
    rng = np.random.default_rng(zlib.crc32(("noise:" + preset.id).encode("utf-8")))
    spec = scipy.fft.rfft(rng.standard_normal(length))
    freqs = np.maximum(np.arange(spec.size) * sample_rate / length, 1e-6)
    width = preset.noise_bandwidth_oct / 2.0
    spec *= np.exp(-0.5 * (np.log2(freqs / preset.noise_center_hz) / width) ** 2)
    spec[0] = 0.0
    wave = scipy.fft.irfft(spec, length)
    rms = float(np.sqrt(np.mean(wave**2)))
    wave = wave * (_REF_RMS / rms) if rms > 0 else wave
    loop = _as_loop(wave)
    _LOOPS.put(nkey, loop)
    return loop


def _exp_curve(tau_samples: float, n: int, floor: float = 0.0) -> np.ndarray:
    """floor + (1 - floor) * exp(-t / tau) for t = 0..n-1 (float32 view, cached and grown)."""
    ckey = (round(tau_samples, 3), round(floor, 6))
    curve = _CURVES.get(ckey)
    if curve is None or curve.size < n:
        size = max(n, 2 * (curve.size if curve is not None else 0), 4096)
        t = np.arange(size, dtype=np.float64)
        curve = (floor + (1.0 - floor) * np.exp(-t / max(tau_samples, 1e-9))).astype(np.float32)
        _CURVES[ckey] = curve
    return curve[:n]


def _tile(loop: _Loop, offset: int, n: int) -> np.ndarray:
    """n samples of `loop` from `offset` on, as a fresh float32 array."""
    rotated = loop.data2[offset : offset + loop.length]
    if n <= loop.length:
        return rotated[:n].copy()
    return np.resize(rotated, n)


@dataclass(frozen=True)
class _Vibrato:
    """Read positions of a note with vibrato: plain tiling until `n_plain`, then `whole`/`frac`."""

    n_plain: int
    whole: np.ndarray  # int64 sample offsets from the note start, for samples n_plain..
    frac: np.ndarray  # float32 fractional parts


def _vibrato(preset: TimbrePreset, key: str, n_total: int, sr: int) -> _Vibrato | None:
    """Read positions bent by the preset's delayed vibrato, for a note of n_total samples.

    The pattern is the same for every note of a preset (only its length differs), so it is
    computed once, cached and sliced; notes differ by their random loop offset.
    """
    n_plain = int(preset.vibrato_delay_s * sr)
    if preset.vibrato_depth_cents <= 0 or n_total <= n_plain + 1:
        return None
    vkey = ("vibrato", key, sr)
    cached = _VIBRATO.get(vkey)
    if cached is None or cached.whole.size < n_total - n_plain:
        size = max(n_total - n_plain, 2 * (cached.whole.size if cached else 0), sr)
        step = 32
        t_knots = np.arange(0, size + 2 * step, step, dtype=np.float64)
        ramp = np.clip(t_knots / (0.3 * sr), 0.0, 1.0)
        ratio = 2.0 ** (preset.vibrato_depth_cents / 1200.0) - 1.0
        depth = ratio * sr / (2.0 * np.pi * preset.vibrato_rate_hz)
        knots = depth * ramp * np.sin(2.0 * np.pi * preset.vibrato_rate_hz * t_knots / sr)
        frac_pos = np.linspace(0.0, 1.0, step, endpoint=False)
        disp = (knots[:-1, None] + np.diff(knots)[:, None] * frac_pos[None, :]).reshape(-1)[:size]
        pos = np.arange(n_plain, n_plain + size, dtype=np.float64) + disp
        whole = np.floor(pos)
        cached = _Vibrato(n_plain, whole.astype(np.int64), (pos - whole).astype(np.float32))
        _VIBRATO[vkey] = cached
    m = n_total - n_plain
    return _Vibrato(n_plain, cached.whole[:m], cached.frac[:m])


def glide_positions(n_samples: int, n_glide: int, semitones: float) -> np.ndarray:
    """Read positions (samples, float64, shape [n_samples]) of a loop that sounds its own
    pitch moved by `semitones` at the start, gliding in a straight line of semitones to
    its pitch over the first `n_glide` samples, then plain (a constant shift).

    Position k is the sum of the read rates before it, rate 2^(offset / 12) where offset
    falls linearly from `semitones` to 0.
    """
    n_glide = min(max(n_glide, 0), n_samples)
    rate = np.ones(n_samples, dtype=np.float64)
    if n_glide:
        offset = semitones * (1.0 - np.arange(n_glide, dtype=np.float64) / n_glide)
        rate[:n_glide] = np.exp2(offset / 12.0)
    pos = np.empty(n_samples, dtype=np.float64)
    if n_samples:
        pos[0] = 0.0
        np.cumsum(rate[:-1], out=pos[1:])
    return pos


@dataclass(frozen=True)
class _Glide:
    """Read positions of a gliding note: bent (`whole`/`frac`, from the note's start) over
    the glide, then one fixed shift (`tail_whole`, `tail_frac`: the position of the first
    sample after the bend) for the rest, so a long note costs a bend of its glide only."""

    whole: np.ndarray  # int64 sample offsets from the note start
    frac: np.ndarray  # float32 fractional parts
    tail_whole: int
    tail_frac: float


def _glide_of(pos: np.ndarray) -> _Glide:
    """The _Glide whose bent part is all of `pos` but its last position (the tail's)."""
    whole = np.floor(pos)
    n_head = pos.size - 1
    head_whole = whole[:n_head].astype(np.int64)
    head_frac = (pos - whole)[:n_head].astype(np.float32)
    head_whole.setflags(write=False)  # shared between notes (cached)
    head_frac.setflags(write=False)
    return _Glide(head_whole, head_frac, int(whole[n_head]), float(pos[n_head] - whole[n_head]))


@lru_cache(maxsize=256)
def _plain_glide(n_glide: int, semitones: float) -> _Glide:
    """A glide without vibrato: the same for every note gliding as far for as long (an
    808 line repeats a few), so it is computed once."""
    return _glide_of(glide_positions(n_glide + 1, n_glide, semitones))


def _glide_read(n_total: int, n_glide: int, semitones: float, vib: _Vibrato | None) -> _Glide:
    """The read positions of a gliding note, the vibrato's bend (if any) added on top: the
    vibrato moves the read position by the same samples whatever the glide does (with a
    vibrato the whole note is bent)."""
    if vib is None:
        return _plain_glide(n_glide, semitones)
    pos = glide_positions(n_total + 1, n_glide, semitones)
    pos[vib.n_plain : n_total] += vib.whole + vib.frac - np.arange(vib.n_plain, n_total)
    return _glide_of(pos)


def _read_glide(loop: _Loop, offset: int, n: int, glide: _Glide) -> np.ndarray:
    """n samples of the loop from `offset`, along a glide's read positions."""
    out = np.empty(n, dtype=np.float32)
    head = min(n, glide.whole.size)
    idx = (glide.whole[:head] + offset) % loop.length
    a = loop.data2[idx]
    b = loop.data2[idx + 1]
    b -= a
    b *= glide.frac[:head]
    a += b
    out[:head] = a
    if n > head:
        start = (offset + glide.tail_whole) % loop.length
        lo = _tile(loop, start, n - head)
        hi = _tile(loop, (start + 1) % loop.length, n - head)
        hi -= lo
        hi *= np.float32(glide.tail_frac)
        lo += hi
        out[head:] = lo
    return out


def _read(loop: _Loop, offset: int, n: int, vib: _Vibrato | None) -> np.ndarray:
    """n samples of the loop from `offset`, bent by the vibrato when there is one."""
    if vib is None:
        return _tile(loop, offset, n)
    out = np.empty(n, dtype=np.float32)
    out[: vib.n_plain] = _tile(loop, offset, vib.n_plain) if vib.n_plain else out[:0]
    idx = (vib.whole + offset) % loop.length
    a = loop.data2[idx]
    b = loop.data2[idx + 1]
    b -= a
    b *= vib.frac
    a += b
    out[vib.n_plain :] = a
    return out


def _envelope(
    preset: TimbrePreset, n_on: int, n_total: int, n_release: int, sr: int, gain: float
) -> np.ndarray:
    """ADSR amplitude envelope of one note times `gain`; ends at exactly zero with a fade."""
    env = np.empty(n_total, dtype=np.float32)
    held = min(n_on, n_total)
    np.multiply(
        _exp_curve(preset.decay_s * sr, held, floor=preset.sustain),
        np.float32(gain),
        out=env[:held],
    )
    n_att = min(max(int(preset.attack_s * sr), int(_MIN_ATTACK_S * sr), 1), held)
    env[:n_att] *= _ramp(n_att, rising=True)
    if n_total > held:
        tau = n_release / math.log(1000.0)
        np.multiply(_exp_curve(tau, n_total - held), env[held - 1], out=env[held:])
    n_fade = min(int(_END_FADE_S * sr), n_total)
    if n_fade > 0:
        env[n_total - n_fade :] *= _ramp(n_fade, rising=False)
    return env


@cache
def _ramp(n: int, *, rising: bool) -> np.ndarray:
    """A 0→1 attack curve (t^1.5, click-free start) or a linear 1→0 fade of n samples."""
    if rising:
        return np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32) ** np.float32(1.5)
    return np.linspace(1.0, 0.0, n, dtype=np.float32)


def check_note_arrays(
    pitch: np.ndarray, onset: np.ndarray, duration: np.ndarray, velocity: np.ndarray
) -> None:
    """The note-array contract every note renderer shares (DDSP and the sampler)."""
    n = pitch.shape[0]
    named = (
        ("pitch_midi", pitch),
        ("onset_s", onset),
        ("duration_s", duration),
        ("velocity", velocity),
    )
    for name, arr in named:
        if arr.shape != (n,):
            raise ParameterError(
                f"{name} must have the shape of pitch_midi ({n},), got {arr.shape}", field=name
            )
        if not np.all(np.isfinite(arr)):
            raise ParameterError(f"{name} holds NaN or infinite values", field=name)
    if np.any(onset < 0) or np.any(duration <= 0):
        raise ParameterError("onsets must be >= 0 and durations > 0", field="onset_s")
    if np.any(velocity < 0) or np.any(velocity > 1):
        raise ParameterError("velocity must be in [0, 1]", field="velocity")
    if np.any(pitch < 0) or np.any(pitch > 127):
        raise ParameterError("pitch_midi must be in [0, 127]", field="pitch_midi")


_MAX_GLIDE_SEMITONES = 48.0


def check_glide_arrays(
    glide_semitones: np.ndarray | None, glide_s: np.ndarray | None, n: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The glide arrays every note renderer takes, checked against the notes' shape
    (None when none are given)."""
    if glide_semitones is None and glide_s is None:
        return None
    if glide_semitones is None or glide_s is None:
        raise ParameterError("give glide_semitones and glide_s together", field="glide_s")
    semis = np.asarray(glide_semitones, dtype=np.float64).reshape(-1)
    seconds = np.asarray(glide_s, dtype=np.float64).reshape(-1)
    for name, arr in (("glide_semitones", semis), ("glide_s", seconds)):
        if arr.shape != (n,):
            raise ParameterError(
                f"{name} must have the shape of pitch_midi ({n},), got {arr.shape}", field=name
            )
        if not np.all(np.isfinite(arr)):
            raise ParameterError(f"{name} holds NaN or infinite values", field=name)
    if np.any(seconds < 0) or np.any(np.abs(semis) > _MAX_GLIDE_SEMITONES):
        raise ParameterError(
            f"glides must last >= 0 s and span at most {_MAX_GLIDE_SEMITONES:g} semitones",
            field="glide_s",
        )
    return semis, seconds


def _axpy(y: np.ndarray, x: np.ndarray, a: float) -> None:
    """y += a * x (float32, same length), scaling the scratch array `x` in place.

    numpy rather than BLAS saxpy: OpenBLAS runs saxpy on its thread pool, whose wake-ups
    cost far more than the arithmetic on a busy machine.
    """
    np.multiply(x, np.float32(a), out=x)
    np.add(y, x, out=y)


def render_notes(
    pitch_midi: np.ndarray,
    onset_s: np.ndarray,
    duration_s: np.ndarray,
    velocity: np.ndarray,
    *,
    preset: TimbrePreset,
    sample_rate: int,
    n_samples: int,
    rng: np.random.Generator,
    first_sample: int = 0,
    glide_semitones: np.ndarray | None = None,
    glide_s: np.ndarray | None = None,
) -> np.ndarray:
    """Synthesize a list of notes with one timbre preset.

    Parameters
    ----------
    pitch_midi : MIDI pitches (fractional allowed, resolved to the cent), shape [n_notes].
    onset_s, duration_s : note start and held length (s), shape [n_notes]; the release
        tail sounds after the held part.
    velocity : in [0, 1]; sets loudness (`velocity_range_db`) and brightness.
    preset : the timbre.
    sample_rate, n_samples : output rate (Hz) and length; what would sound later is
        dropped, with a short fade.
    rng : start phases of loops and noise; same seed, same audio.
    first_sample : the track's sample the output starts at (a block of a longer track:
        onsets stay the track's, notes before it must not be given).
    glide_semitones, glide_s : per note, where its pitch starts (semitones from
        `pitch_midi`, within +-48) and how long (s, >= 0; 0 or a zero offset: no glide) it
        takes to glide there in a straight line of semitones, shape [n_notes]; both or
        neither. The loop of the note's pitch is read at a moving rate (as the vibrato
        bends it), so a glide from above raises its partials too.

    Returns mono float32 audio [n_samples].
    """
    pitch = np.asarray(pitch_midi, dtype=np.float64).reshape(-1)
    onset = np.asarray(onset_s, dtype=np.float64).reshape(-1)
    duration = np.asarray(duration_s, dtype=np.float64).reshape(-1)
    vel = np.asarray(velocity, dtype=np.float64).reshape(-1)
    if sample_rate <= 0 or n_samples < 0:
        raise ParameterError("sample_rate must be positive and n_samples non-negative")
    check_note_arrays(pitch, onset, duration, vel)
    glides = check_glide_arrays(glide_semitones, glide_s, pitch.size)
    out = np.zeros(n_samples, dtype=np.float32)
    if pitch.size == 0 or n_samples == 0:
        return out
    sr = sample_rate
    key = preset.model_dump_json()
    scale = _preset_scale(preset, key, sr)
    n_release = max(int(preset.release_s * sr), int(_MIN_RELEASE_S * sr))
    base_gain = 10.0 ** (preset.gain_db / 20.0)
    noise = _noise_loop(preset, key, sr) if preset.noise_level > 0 else None
    t_fade = max(int(_END_FADE_S * sr), 1)
    decaying = preset.brightness_decay_s > 0
    n_bright = int(7.0 * preset.brightness_decay_s * sr)

    for i in np.argsort(onset, kind="stable"):
        start = round(float(onset[i] * sr)) - first_sample
        if start >= n_samples:
            continue
        n_on = max(round(float(duration[i] * sr)), 1)
        n_total = min(n_on + n_release, n_samples - start)
        gain = base_gain * 10.0 ** (preset.velocity_range_db * (vel[i] - 1.0) / 20.0)
        env = _envelope(preset, n_on, n_total, n_release, sr, gain)
        if n_on + n_release > n_samples - start and n_total > t_fade:
            env[n_total - t_fade :] *= _ramp(t_fade, rising=False)
        bright = 1.0 - preset.velocity_brightness * (1.0 - vel[i])
        cents = round(float(pitch[i] * 100.0))
        vib = _vibrato(preset, key, n_total, sr)
        glide = None
        if glides is not None and glides[0][i] != 0.0 and (n_glide := round(glides[1][i] * sr)):
            glide = _glide_read(n_total, n_glide, float(glides[0][i]), vib)
        if decaying:
            dark, diff = _tone_loops(preset, key, cents, sr, scale)
            offset = int(rng.integers(dark.length))
            if glide is not None:
                tone = _read_glide(dark, offset, n_total, glide)
            else:
                tone = _read(dark, offset, n_total, vib)
            if diff is not None:
                n_b = min(n_total, n_bright)
                if glide is not None:
                    moving = _read_glide(diff, offset, n_b, glide)
                else:
                    moving = _read(diff, offset, n_b, vib if n_b == n_total else None)
                moving *= _exp_curve(preset.brightness_decay_s * sr, n_b)
                _axpy(tone[:n_b], moving, bright)
        else:
            level = round(float(bright * _BRIGHT_STEPS)) if _has_dark(preset) else 0
            loop = _mixed_loop(preset, key, cents, sr, scale, level)
            offset = int(rng.integers(loop.length))
            if glide is not None:
                tone = _read_glide(loop, offset, n_total, glide)
            else:
                tone = _read(loop, offset, n_total, vib)
        tone *= env
        if noise is not None:
            _add_noise(tone, noise, preset, env, sr, rng)
        out[start : start + n_total] += tone
    return out


def _add_noise(
    tone: np.ndarray,
    noise: _Loop,
    preset: TimbrePreset,
    env: np.ndarray,
    sr: int,
    rng: np.random.Generator,
) -> None:
    """Add the preset's noise (an onset burst, or breath following `env`) into `tone`."""
    offset = int(rng.integers(noise.length))
    if preset.noise_mode == "sustain":
        part = _tile(noise, offset, tone.size)
        part *= env
        _axpy(tone, part, preset.noise_level)
        return
    n_burst = min(tone.size, int(6.0 * preset.noise_decay_s * sr) + 1)
    part = _tile(noise, offset, n_burst)
    part *= _exp_curve(preset.noise_decay_s * sr, n_burst)
    part *= env[:n_burst]
    _axpy(tone[:n_burst], part, preset.noise_level)
