"""Listening to a clip a person supplies: tempo, key, meter, loudness, energy and brightness.

Numpy and scipy only (the runtime has no librosa): an onset envelope from the spectral
flux of a log-magnitude STFT; tempo from its autocorrelation summed over beat multiples
(a comb) under a broad prior, sharpened by `analysis.refine_tempo_acf`; key from an STFT
chroma correlated with the key profiles (`keys.best_key`); meter from how strongly the
accents repeat every 3 or 4 beats; energy per 4-bar segment at the found tempo. The clip is
only decoded (soundfile), never executed.
"""

from __future__ import annotations

import io
import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy.signal import resample_poly

from soundstar.audio.analysis import refine_tempo_acf
from soundstar.audio.loudness import integrated_loudness, k_weighting_sos
from soundstar.errors import ParameterError, PayloadTooLargeError
from soundstar.keys import best_key

FloatArray = NDArray[np.float64]

CLIP_MAX_BYTES = 50 * 1024 * 1024
CLIP_MAX_SECONDS = 600.0
CLIP_MIN_SECONDS = 3.0
CLIP_FORMATS = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "MP3": "mp3", "MPEG": "mp3"}
LISTEN_RATE = 22050
_N_FFT = 2048
_HOP = 512
_MIN_BPM, _MAX_BPM = 50.0, 220.0
_PRIOR_BPM, _PRIOR_OCTAVES = 115.0, 0.6  # log-normal prior on the tempo (centre, width)
_COMB = (1, 2, 3, 4)
_CHROMA_HZ = (80.0, 600.0)
_CHROMA_FFT = 8192
_SEGMENT_BARS = 4
_ENERGY_SPAN_LU = 12.0  # a segment this many LU under the clip's loudest reads energy 0


class EnergySegment(BaseModel):
    """A stretch of the clip (whole bars at its tempo) and how loud and busy it is."""

    model_config = ConfigDict(frozen=True)

    start_seconds: float
    end_seconds: float
    loudness_lufs: float
    energy: float = Field(ge=0.0, le=1.0, description="0 quietest to 1 loudest, onsets counted")


class ClipAnalysis(BaseModel):
    """What was heard in a clip; the parameters `--like` takes from it."""

    model_config = ConfigDict(frozen=True)

    format: str
    duration_seconds: float
    sample_rate: int
    channels: int
    tempo_bpm: float
    key: str
    key_confidence: float
    time_signature: str
    integrated_lufs: float
    brightness_hz: float = Field(description="mean spectral centroid")
    energy_level: float = Field(ge=0.0, le=1.0)
    sections: list[EnergySegment]


def read_clip(
    path: Path, *, max_bytes: int = CLIP_MAX_BYTES, max_seconds: float = CLIP_MAX_SECONDS
) -> tuple[np.ndarray, int, str]:
    """(audio (channels, n) float32, sample rate, format) of a WAV, FLAC or MP3 file; a
    clear error for anything else, too big, too long, too short or unreadable. The size
    and length are checked before the samples are decoded."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParameterError(f"cannot read {path.name}: {exc.strerror}", field="clip") from None
    _check_size(size, max_bytes)
    return _decode(str(path), path.name, max_seconds)


def read_clip_bytes(
    data: bytes,
    name: str = "the clip",
    *,
    max_bytes: int = CLIP_MAX_BYTES,
    max_seconds: float = CLIP_MAX_SECONDS,
) -> tuple[np.ndarray, int, str]:
    """`read_clip` of an upload held in memory: it is decoded from there, never written."""
    _check_size(len(data), max_bytes)
    return _decode(io.BytesIO(data), name, max_seconds)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise PayloadTooLargeError(
            f"the clip is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB"
        )


def _source(source: str | io.BytesIO) -> str | io.BytesIO:
    if isinstance(source, io.BytesIO):
        source.seek(0)
    return source


def _decode(source: str | io.BytesIO, name: str, max_seconds: float) -> tuple[np.ndarray, int, str]:
    try:
        info = sf.info(_source(source))
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError):
        raise ParameterError(
            f"{name} is not audio soundstar can read (WAV, FLAC or MP3)", field="clip"
        ) from None
    fmt = CLIP_FORMATS.get(info.format)
    if fmt is None:
        raise ParameterError(
            f"{name} is {info.format_info or info.format}; use WAV, FLAC or MP3", field="clip"
        )
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if seconds > max_seconds:
        raise ParameterError(
            f"the clip lasts {seconds:.0f} s; the limit is {max_seconds:g} s", field="clip"
        )
    try:
        data, rate = sf.read(_source(source), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError):
        raise ParameterError(f"{name} could not be decoded", field="clip") from None
    if data.shape[0] < CLIP_MIN_SECONDS * rate:
        raise ParameterError(
            f"the clip lasts {data.shape[0] / rate:.1f} s; at least {CLIP_MIN_SECONDS:g} s "
            "are needed to hear a tempo",
            field="clip",
        )
    if not np.all(np.isfinite(data)):
        raise ParameterError(f"{name} holds invalid samples", field="clip")
    return np.ascontiguousarray(data.T), int(rate), fmt


def _to_listen_rate(audio: np.ndarray, sample_rate: int) -> FloatArray:
    mono = np.asarray(audio, dtype=np.float64)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    if sample_rate == LISTEN_RATE:
        return mono
    g = math.gcd(LISTEN_RATE, sample_rate)
    return np.asarray(resample_poly(mono, LISTEN_RATE // g, sample_rate // g), dtype=np.float64)


def _spectrogram(mono: FloatArray) -> FloatArray:
    """Magnitudes (bins, frames) of a Hann-windowed STFT, frames every `_HOP` samples."""
    padded = np.pad(mono, (_N_FFT // 2, _N_FFT // 2))
    n_frames = 1 + (padded.size - _N_FFT) // _HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, _N_FFT), strides=(padded.strides[0] * _HOP, padded.strides[0])
    )
    window = np.hanning(_N_FFT)
    out = np.empty((_N_FFT // 2 + 1, n_frames), dtype=np.float64)
    for start in range(0, n_frames, 1024):
        chunk = frames[start : start + 1024] * window
        out[:, start : start + chunk.shape[0]] = np.abs(np.fft.rfft(chunk, axis=1)).T
    return out


def onset_envelope(magnitudes: FloatArray) -> FloatArray:
    """Spectral flux: the summed rise of log-compressed magnitude per frame."""
    log_mag = np.log1p(100.0 * magnitudes / max(float(magnitudes.max()), 1e-12))
    flux: FloatArray = np.maximum(np.diff(log_mag, axis=1, prepend=log_mag[:, :1]), 0.0).sum(0)
    local_mean: FloatArray = np.convolve(flux, np.ones(16) / 16.0, mode="same")
    return flux - local_mean


def _acf(x: FloatArray) -> FloatArray:
    centred = x - x.mean()
    spectrum = np.fft.rfft(centred, 2 * centred.size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: centred.size]
    return acf / acf[0] if acf[0] > 0 else acf


def tempo_of(envelope: FloatArray, frames_per_second: float) -> float:
    """Tempo (BPM) of an onset envelope: each candidate lag scored by the autocorrelation at
    1-4 times that lag (a comb, so the beat period outscores its fractions) under a
    log-normal prior, then refined to sub-frame precision."""
    acf = _acf(np.maximum(envelope, 0.0))
    lags = np.arange(1, acf.size // max(_COMB))
    bpm = 60.0 * frames_per_second / lags
    usable = (bpm >= _MIN_BPM) & (bpm <= _MAX_BPM)
    if not np.any(usable):
        raise ParameterError("the clip is too short to hear a tempo", field="clip")
    lags, bpm = lags[usable], bpm[usable]
    comb = sum(acf[np.minimum(k * lags, acf.size - 1)] / k for k in _COMB)
    prior = np.exp(-0.5 * (np.log2(bpm / _PRIOR_BPM) / _PRIOR_OCTAVES) ** 2)
    raw = float(bpm[int(np.argmax(comb * prior))])
    refined = refine_tempo_acf(envelope, raw, frames_per_second=frames_per_second)
    return refined if refined is not None else raw


def chroma(mono: FloatArray) -> FloatArray:
    """Energy per pitch class (C first): the spectral peaks of a long-window STFT (fine
    enough to tell semitones apart down to about 80 Hz), each counted for its pitch class
    when it lies within a quarter tone of a semitone."""
    n_fft = _CHROMA_FFT
    hop = n_fft // 2
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    n_frames = 1 + (mono.size - n_fft) // hop
    freqs = np.fft.rfftfreq(n_fft, 1.0 / LISTEN_RATE)
    band = np.flatnonzero((freqs >= _CHROMA_HZ[0]) & (freqs <= _CHROMA_HZ[1]))
    midi = 12.0 * np.log2(freqs[band] / 440.0) + 69.0
    near = np.abs(midi - np.round(midi)) <= 0.25
    pcs = np.round(midi).astype(int) % 12
    window = np.hanning(n_fft)
    total = np.zeros(12, dtype=np.float64)
    for frame in range(n_frames):
        segment = mono[frame * hop : frame * hop + n_fft] * window
        mag = np.abs(np.fft.rfft(segment))[band]
        peak = np.zeros(mag.size, dtype=bool)
        peak[1:-1] = (mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:])
        floor = np.median(mag)
        keep = peak & near & (mag > 4.0 * floor)
        total += np.bincount(pcs[keep], weights=np.log1p(mag[keep] / floor), minlength=12)
    return total


def beats_per_bar(envelope: FloatArray, low_envelope: FloatArray, period: float) -> int:
    """3 or 4: the bar length at which the beats' accents (onsets, the low band's most)
    stand out most on one position of the bar."""
    n_beats = int((envelope.size - 1) // period)
    if n_beats < 8:
        return 4
    accent = envelope + 2.0 * low_envelope
    phase = int(np.argmax([accent[np.round(np.arange(n_beats) * period + p).astype(int)].sum()
                           for p in range(int(period))]))  # fmt: skip
    at_beats = accent[np.minimum(np.round(np.arange(n_beats) * period + phase).astype(int),
                                 accent.size - 1)]  # fmt: skip
    at_beats = at_beats - at_beats.mean()
    scores = {}
    for length in (3, 4):
        usable = (at_beats.size // length) * length
        folded = at_beats[:usable].reshape(-1, length).mean(axis=0)
        scores[length] = float(folded.max() - np.delete(folded, folded.argmax()).mean())
    return 3 if scores[3] > 1.15 * scores[4] else 4


def _segment_edges(n_samples: int, step: int) -> list[int]:
    """Sample edges of segments `step` long; a last piece under half a step joins the one before."""
    edges = [*range(0, n_samples, step), n_samples]
    if len(edges) > 2 and edges[-1] - edges[-2] < step // 2:
        edges.pop(-2)
    return edges


def _mean_between(envelope: FloatArray, lo_frame: float, hi_frame: float) -> float:
    lo = round(lo_frame)
    return float(envelope[lo : max(round(hi_frame), lo + 1)].mean())


def _segment_loudness(audio: np.ndarray, sample_rate: int, edges: list[int]) -> list[float]:
    from scipy.signal import sosfilt

    weighted = sosfilt(np.array(k_weighting_sos(sample_rate)), np.atleast_2d(audio), axis=-1)
    power = np.square(weighted).sum(axis=0)
    out = []
    for lo, hi in pairwise(edges):
        mean = float(power[lo:hi].mean()) if hi > lo else 0.0
        out.append(-0.691 + 10.0 * math.log10(mean) if mean > 0 else -120.0)
    return out


def analyze_audio(audio: np.ndarray, *, sample_rate: int, fmt: str = "wav") -> ClipAnalysis:
    """Everything `analyze` reports about `audio` (channels, n) at `sample_rate`."""
    data = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if not np.any(data):
        raise ParameterError("the clip is silent: there is nothing to hear", field="clip")
    mono = _to_listen_rate(data, sample_rate)
    magnitudes = _spectrogram(mono)
    fps = LISTEN_RATE / _HOP
    envelope = onset_envelope(magnitudes)
    low = onset_envelope(magnitudes[: int(200.0 * _N_FFT / LISTEN_RATE)])
    tempo = tempo_of(envelope, fps)
    key, confidence = best_key(chroma(mono))
    bar_beats = beats_per_bar(envelope, low, 60.0 * fps / tempo)
    freqs = np.fft.rfftfreq(_N_FFT, 1.0 / LISTEN_RATE)
    power = magnitudes.sum(axis=0)
    loud = power > 1e-3 * power.max()
    centroid = float((freqs @ magnitudes[:, loud]).sum() / power[loud].sum())
    segment_s = _SEGMENT_BARS * bar_beats * 60.0 / tempo
    edges = _segment_edges(data.shape[1], max(1, round(segment_s * sample_rate)))
    n = data.shape[1]
    lufs = _segment_loudness(data, sample_rate, edges)
    onsets = np.maximum(envelope, 0.0)
    busy = [_mean_between(onsets, lo / sample_rate * fps, hi / sample_rate * fps)
            for lo, hi in pairwise(edges)]  # fmt: skip
    busiest = max(max(busy), 1e-12)
    top = max(lufs)
    energies = [
        float(np.clip(0.6 * (1.0 + (level - top) / _ENERGY_SPAN_LU) + 0.4 * b / busiest, 0, 1))
        for level, b in zip(lufs, busy, strict=True)
    ]
    sections = [
        EnergySegment(
            start_seconds=round(lo / sample_rate, 3),
            end_seconds=round(hi / sample_rate, 3),
            loudness_lufs=round(level, 2),
            energy=round(energy, 3),
        )
        for (lo, hi), level, energy in zip(pairwise(edges), lufs, energies, strict=True)
    ]
    rate = float(np.count_nonzero(_peaks(onsets))) / (mono.size / LISTEN_RATE)
    return ClipAnalysis(
        format=fmt,
        duration_seconds=round(n / sample_rate, 3),
        sample_rate=sample_rate,
        channels=data.shape[0],
        tempo_bpm=round(tempo, 2),
        key=key,
        key_confidence=round(confidence, 3),
        time_signature=f"{bar_beats}/4",
        integrated_lufs=round(integrated_loudness(data, sample_rate=sample_rate), 2),
        brightness_hz=round(centroid, 1),
        energy_level=round(_energy_level(rate, centroid, float(np.mean(energies))), 3),
        sections=sections,
    )


def _peaks(envelope: FloatArray) -> NDArray[np.bool_]:
    """Onsets: local maxima of the envelope above its mean plus one deviation."""
    threshold = envelope.mean() + envelope.std()
    inner = (envelope[1:-1] > envelope[:-2]) & (envelope[1:-1] >= envelope[2:])
    return np.concatenate(([False], inner & (envelope[1:-1] > threshold), [False]))


def _energy_level(onsets_per_second: float, centroid_hz: float, mean_energy: float) -> float:
    """A 0-1 energy from how busy (onsets per second) and bright the clip is, and how much
    of it plays near its loudest."""
    busy = np.clip(math.log2(1.0 + onsets_per_second) / 3.5, 0.0, 1.0)
    bright = np.clip((centroid_hz - 800.0) / 2500.0, 0.0, 1.0)
    return float(np.clip(0.5 * busy + 0.25 * bright + 0.25 * mean_energy, 0.0, 1.0))


def analyze_clip(path: Path) -> ClipAnalysis:
    """`read_clip` then `analyze_audio`."""
    audio, rate, fmt = read_clip(path)
    return analyze_audio(audio, sample_rate=rate, fmt=fmt)


def analyze_upload(data: bytes, *, max_bytes: int = CLIP_MAX_BYTES) -> ClipAnalysis:
    """`read_clip_bytes` then `analyze_audio`."""
    audio, rate, fmt = read_clip_bytes(data, max_bytes=max_bytes)
    return analyze_audio(audio, sample_rate=rate, fmt=fmt)
