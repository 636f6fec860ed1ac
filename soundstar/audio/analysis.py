"""Measuring what was made: tempo, key and loudness per section.

Used by tests and benchmarks to check adherence: the BPM asked for is the BPM
heard, the key asked for is the key heard. Tempo and audio key estimation use
librosa, an optional dependency imported only when needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.typing import NDArray
from scipy.signal import sosfilt

from soundstar.audio.loudness import k_weighting_sos
from soundstar.audio.midi import (
    DRUM_CHANNEL,
    MINOR_FAMILY,
    parent_major,
    read_midi_notes,
    shift_tonic,
)
from soundstar.audio.midi import pitch_class as tonic_pitch_class
from soundstar.errors import ParameterError
from soundstar.keys import MAJOR_TONICS, MINOR_TONICS, best_key
from soundstar.models import Score, split_key

ANALYSIS_EXTRA = "soundstar[analysis]"


# Tempo ratios counted as metrical-level ("octave") errors.
TEMPO_OCTAVE_FACTORS = {
    "double": 2.0,
    "half": 0.5,
    "triple": 3.0,
    "third": 1.0 / 3.0,
    "three_halves": 1.5,
    "two_thirds": 2.0 / 3.0,
}
_MIN_TEMPO_AUDIO_S = 2.0
_ONSET_HOP = 512
_REFINE_MIN_BEATS = 6
_REFINE_MAX_DEVIATION = 0.05
_ACF_MULTIPLES = (1, 2, 4, 8)
_ACF_WINDOW = 0.03

# ITU-R BS.1770 K-weighting: a high shelf, then a high-pass (analogue parameters).
SILENCE_FLOOR_LUFS = -120.0

FloatArray = NDArray[np.float64]


class AnalysisUnavailableError(ImportError):
    """An analysis needs librosa, which is not installed."""


def _librosa() -> ModuleType:
    try:
        import librosa
    except ImportError as exc:
        raise AnalysisUnavailableError(
            f"audio analysis needs librosa; install it with: pip install '{ANALYSIS_EXTRA}'"
        ) from exc
    return librosa


def _mono(audio: NDArray[np.floating], *, sample_rate: int) -> NDArray[np.float32]:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise ParameterError(f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    if sample_rate <= 0:
        raise ParameterError(f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    data = np.asarray(audio)
    if not np.issubdtype(data.dtype, np.floating) or data.ndim not in (1, 2):
        raise ParameterError(
            "audio must be a float array shaped (n_samples,) or (channels, n_samples)"
        )
    if data.size == 0:
        raise ParameterError("audio is empty")
    if not np.all(np.isfinite(data)):
        raise ParameterError("audio contains NaN or infinite samples")
    mono = data if data.ndim == 1 else data.mean(axis=0)
    return np.ascontiguousarray(mono, dtype=np.float32)


# --------------------------------------------------------------------------- tempo


def estimate_tempo(
    audio: NDArray[np.floating], *, sample_rate: int, prior_bpm: float | None = None
) -> float:
    """Tempo in BPM heard in `audio`: onset strength, autocorrelation tempo, then sub-frame
    precision from the envelope's autocorrelation peaks at 1-8 beat periods (or, when
    that is undefined, the beat tracker's beat times fitted by least squares).

    `prior_bpm` centres librosa's tempo prior; the estimate is returned as
    measured, never folded towards the prior (see `tempo_octave_error`).
    """
    if prior_bpm is not None and not 0.0 < prior_bpm < 1000.0:
        raise ParameterError(f"prior_bpm must be a tempo in BPM, got {prior_bpm!r}")
    librosa = _librosa()
    mono = _mono(audio, sample_rate=sample_rate)
    if mono.size < _MIN_TEMPO_AUDIO_S * sample_rate:
        raise ParameterError(f"tempo needs at least {_MIN_TEMPO_AUDIO_S:g} s of audio")
    envelope = librosa.onset.onset_strength(y=mono, sr=sample_rate, hop_length=_ONSET_HOP)
    if not np.any(envelope > 0):
        raise ParameterError("audio has no onsets; its tempo is undefined")
    start_bpm = float(prior_bpm) if prior_bpm is not None else 120.0
    raw_bpm = float(
        np.atleast_1d(
            librosa.feature.tempo(
                onset_envelope=envelope, sr=sample_rate, hop_length=_ONSET_HOP, start_bpm=start_bpm
            )
        )[0]
    )
    refined = refine_tempo_acf(envelope, raw_bpm, frames_per_second=sample_rate / _ONSET_HOP)
    if refined is not None:
        return refined
    _, beat_times = librosa.beat.beat_track(
        onset_envelope=envelope, sr=sample_rate, hop_length=_ONSET_HOP, bpm=raw_bpm, units="time"
    )
    return refine_tempo(np.asarray(beat_times, dtype=np.float64), raw_bpm)


def refine_tempo_acf(
    envelope: NDArray[np.floating], raw_bpm: float, *, frames_per_second: float
) -> float | None:
    """Sub-frame tempo near `raw_bpm` from the onset envelope's autocorrelation.

    The peak near one beat period is located with a parabolic fit, then looked for again
    at 2, 4 and 8 periods (each a few per cent wide), so the frame quantisation of the
    lag is divided by up to 8. The metrical level is `raw_bpm`'s: this only sharpens it.
    None when the envelope is shorter than two beat periods or has no peak there.
    """
    if raw_bpm <= 0 or frames_per_second <= 0:
        return None
    x = np.asarray(envelope, dtype=np.float64) - float(np.mean(envelope))
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    period = 60.0 * frames_per_second / raw_bpm
    if period * (1.0 + _ACF_WINDOW) + 2 >= n / 2 or acf[0] <= 0:
        return None
    for multiple in _ACF_MULTIPLES:
        lag = multiple * period
        lo = int(np.floor(lag * (1.0 - _ACF_WINDOW)))
        hi = int(np.ceil(lag * (1.0 + _ACF_WINDOW))) + 1
        if multiple > 1 and hi + 1 >= n / 2:
            break
        peak = lo + int(np.argmax(acf[lo:hi]))
        if not 0 < peak < n - 1 or acf[peak] <= 0:
            return None if multiple == 1 else float(60.0 * frames_per_second / period)
        a, b, c = acf[peak - 1], acf[peak], acf[peak + 1]
        curvature = a - 2.0 * b + c
        # the vertex of the parabola through the three points; at a window edge, where a
        # neighbour is higher, it could fall far outside them
        offset = float(np.clip(0.5 * (a - c) / curvature, -0.5, 0.5)) if curvature < 0 else 0.0
        period = float(peak + offset) / multiple
    return float(60.0 * frames_per_second / period)


def refine_tempo(beat_times_s: FloatArray, raw_bpm: float) -> float:
    """Fit beat times to a uniform grid near `raw_bpm` (skipped beats allowed) and return
    its tempo; `raw_bpm` when there are too few beats or the fit strays over 5 %."""
    if raw_bpm <= 0 or beat_times_s.size < _REFINE_MIN_BEATS:
        return raw_bpm
    period_s = 60.0 / raw_bpm
    index = np.round((beat_times_s - beat_times_s[0]) / period_s)
    if np.unique(index).size < _REFINE_MIN_BEATS:
        return raw_bpm
    slope, _ = np.polyfit(index, beat_times_s, 1)
    fitted = 60.0 / float(slope) if slope > 0 else raw_bpm
    return fitted if abs(fitted / raw_bpm - 1.0) <= _REFINE_MAX_DEVIATION else raw_bpm


def tempo_matches(measured_bpm: float, target_bpm: float, tol: float = 0.02) -> bool:
    """True when `measured_bpm` is within `tol` (relative) of `target_bpm`; half or
    double tempo does not match."""
    if target_bpm <= 0:
        raise ParameterError(f"target tempo must be positive, got {target_bpm!r}")
    return abs(measured_bpm / target_bpm - 1.0) <= tol


def tempo_octave_error(measured_bpm: float, target_bpm: float, tol: float = 0.02) -> str | None:
    """Name of the metrical-level error ("double", "half", "triple", "third",
    "three_halves", "two_thirds") when the measurement is that multiple of the
    target within `tol`; None when it matches exactly or is unrelated."""
    if target_bpm <= 0:
        raise ParameterError(f"target tempo must be positive, got {target_bpm!r}")
    if tempo_matches(measured_bpm, target_bpm, tol):
        return None
    for name, factor in TEMPO_OCTAVE_FACTORS.items():
        if tempo_matches(measured_bpm, target_bpm * factor, tol):
            return name
    return None


# --------------------------------------------------------------------------- key


def estimate_key(audio: NDArray[np.floating], *, sample_rate: int) -> tuple[str, float]:
    """Key heard in `audio` (e.g. ("A minor", 0.87)): constant-Q chroma averaged over
    time, correlated with the 24 major/minor key profiles."""
    librosa = _librosa()
    mono = _mono(audio, sample_rate=sample_rate)
    if not np.any(mono):
        raise ParameterError("audio is silent: no key to find")
    chroma = librosa.feature.chroma_cqt(y=mono, sr=sample_rate)
    return best_key(np.asarray(chroma, dtype=np.float64).mean(axis=1))


def estimate_key_from_midi(score_or_path: Score | Path | str) -> tuple[str, float]:
    """Key of a Score or MIDI file from its duration-weighted pitch-class histogram
    (drum parts left out), correlated with the same profiles as `estimate_key`."""
    if isinstance(score_or_path, Score):
        weights = pitch_class_histogram(score_or_path)
    else:
        weights = np.zeros(12, dtype=np.float64)
        for notes in read_midi_notes(Path(score_or_path)).values():
            for channel, pitch, _start, duration, _velocity in notes:
                if channel != DRUM_CHANNEL:
                    weights[pitch % 12] += duration
    if not np.any(weights):
        raise ParameterError("no pitched notes: no key to find")
    return best_key(weights)


def _parse_key(key: str) -> tuple[str, str]:
    try:
        return split_key(key)
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc


def keys_equal(a: str, b: str) -> bool:
    """True when two keys name the same tonic pitch and mode ("C# minor" == "Db minor")."""
    tonic_a, mode_a = _parse_key(a)
    tonic_b, mode_b = _parse_key(b)
    return mode_a == mode_b and tonic_pitch_class(tonic_a) == tonic_pitch_class(tonic_b)


def relative_key(key: str) -> str:
    """The relative key: "A minor" -> "C major", "C major" -> "A minor".

    Church modes give their parent major ("D dorian" -> "C major"); harmonic
    and melodic minor give the relative major of their tonic.
    """
    tonic, mode = _parse_key(key)
    if mode == "major":
        spelled, pc = shift_tonic(tonic, -2, -3)
        return f"{spelled or MINOR_TONICS[pc]} minor"
    if mode in MINOR_FAMILY:
        spelled, pc = shift_tonic(tonic, 2, 3)
    else:
        spelled, pc = parent_major(tonic, mode)
    return f"{spelled or MAJOR_TONICS[pc]} major"


# --------------------------------------------------------------------------- loudness


def section_loudness(
    audio: NDArray[np.floating],
    *,
    sample_rate: int,
    boundaries_s: Sequence[float],
    end_s: float | None = None,
) -> list[float]:
    """Ungated K-weighted loudness (LUFS, BS.1770 channel sum) of each section.

    `boundaries_s` are the ascending section start times; each section runs to
    the next start, the last to `end_s` (default: the end of the audio).
    Silent sections read `SILENCE_FLOOR_LUFS`.
    """
    _mono(audio, sample_rate=sample_rate)
    data = np.asarray(audio, dtype=np.float64)
    channels = data[np.newaxis, :] if data.ndim == 1 else data
    n_samples = channels.shape[1]
    starts = [float(b) for b in boundaries_s]
    if not starts:
        raise ParameterError("at least one section boundary is needed")
    stop_s = n_samples / sample_rate if end_s is None else float(end_s)
    edges = [*starts, stop_s]
    if starts[0] < 0 or any(b >= a for a, b in zip(edges[1:], edges[:-1], strict=True)):
        raise ParameterError("section boundaries must be non-negative and strictly ascending")
    if stop_s > n_samples / sample_rate + 1e-9:
        raise ParameterError("sections run past the end of the audio")
    weighted = sosfilt(np.array(k_weighting_sos(int(sample_rate))), channels, axis=-1)
    power = np.square(weighted).sum(axis=0)
    cumulative = np.concatenate(([0.0], np.cumsum(power)))
    result: list[float] = []
    for begin_s, finish_s in pairwise(edges):
        lo, hi = round(begin_s * sample_rate), round(finish_s * sample_rate)
        if hi <= lo:
            raise ParameterError(f"section {begin_s:.3f}-{finish_s:.3f} s holds no samples")
        mean_square = (cumulative[hi] - cumulative[lo]) / (hi - lo)
        loudness = -0.691 + 10.0 * np.log10(mean_square) if mean_square > 0 else -np.inf
        result.append(max(float(loudness), SILENCE_FLOOR_LUFS))
    return result


def pitch_class_histogram(score: Score) -> FloatArray:
    """Duration-weighted pitch-class histogram (C first) of a Score's pitched parts."""
    weights: defaultdict[int, float] = defaultdict(float)
    for track in score.tracks:
        if not track.is_drum:
            for note in track.notes:
                weights[note.pitch % 12] += note.duration_beats
    return np.array([weights[pc] for pc in range(12)], dtype=np.float64)
