"""A second opinion on tempo and key from essentia, an estimator that is not ours.

Essentia is AGPL-3.0, so it is used here, by the benchmarks, and never by the package
(DESIGN.md "Licence and dependencies"). Its RhythmExtractor2013 (multifeature beat
tracker) and KeyExtractor (default profile, the estimator MusicBench's key labels and
Mustango's CK come from) read the same renders as our librosa estimators, so a figure
that holds under both is not an artefact of one estimator's tuning.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from benchmarks.support.metronome import CALIBRATION_BPM, click_track

# RhythmExtractor2013 assumes 44.1 kHz input; other rates are resampled to it.
ESSENTIA_RATE = 44100


def essentia_standard() -> ModuleType | None:
    """essentia.standard, or None where essentia is not installed (the cross-check is
    then left out of the results, and says so)."""
    try:
        essentia = importlib.import_module("essentia")
    except ImportError:
        logging.getLogger(__name__).warning("essentia is not installed: no cross-check")
        return None
    essentia.log.infoActive = False
    return importlib.import_module("essentia.standard")


def _mono(audio: NDArray[np.floating]) -> NDArray[np.float32]:
    """Mono float32 of a (channels, samples) or (samples,) array, as essentia takes it."""
    samples = np.asarray(audio, dtype=np.float64)
    mono = samples.mean(axis=0) if samples.ndim == 2 else samples
    return np.ascontiguousarray(mono, dtype=np.float32)


def essentia_tempo(es: ModuleType, audio: NDArray[np.floating], *, sample_rate: int) -> float:
    """BPM from RhythmExtractor2013 (multifeature), as measured."""
    mono = _mono(audio)
    if sample_rate != ESSENTIA_RATE:
        mono = es.Resample(inputSampleRate=sample_rate, outputSampleRate=ESSENTIA_RATE)(mono)
    bpm = es.RhythmExtractor2013(method="multifeature")(mono)[0]
    return float(bpm)


def essentia_key(es: ModuleType, audio: NDArray[np.floating], *, sample_rate: int) -> str:
    """The major or minor key KeyExtractor hears, spelled as ours are ("F# minor")."""
    key, scale = es.KeyExtractor(sampleRate=float(sample_rate))(_mono(audio))[:2]
    return f"{key} {scale}"


def essentia_calibration(es: ModuleType, *, sample_rate: int) -> dict[str, float]:
    """RhythmExtractor2013's reading of the same beats-only metronomes that calibrate
    our estimator (benchmarks.support.metronome)."""
    return {
        str(bpm): round(
            essentia_tempo(
                es, click_track(float(bpm), sample_rate=sample_rate), sample_rate=sample_rate
            ),
            2,
        )
        for bpm in CALIBRATION_BPM
    }
