"""Chords heard in audio, and Mustango's chord-match metrics.

The estimator: a constant-Q spectrogram's harmonic part (median-filtered across
time, so drum hits fall away), log-compressed, folded into chroma, matched per
frame (or per beat) against chord templates that include each tone's overtones,
then smoothed by a Viterbi path that prefers to stay on a chord. Mustango
measured chords with Chordino, which we cannot ship; this is our own, built on
librosa and numpy.

The metrics follow Mustango's evaluation script (AMAAI-Lab/mustango,
utils/evaluate_control_testB.py; Melechovsky et al. 2024): PCM and ECM count how
many of the asked chords appear, in order, in the heard sequence; CMO and CMOT
count them in any order. Labels are compared after `reduce_chord` (see there).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from soundstar.audio.analysis import _librosa, _mono
from soundstar.errors import ParameterError
from soundstar.keys import MINOR_TONICS
from soundstar.theory import parse_chord

FloatArray = NDArray[np.float64]

NO_CHORD = "N"
ANALYSIS_SAMPLE_RATE = 22050
_HOP = 1024  # 46 ms at 22.05 kHz; a multiple of 2**(octaves - 1) as the CQT needs
_BINS_PER_SEMITONE = 3
_LOWEST_MIDI = 24  # C1
_OCTAVES = 7
_HARMONIC_KERNEL = 9  # frames of the median filter across time (~0.4 s)
_LOG_GAIN = 1000.0
_CHROMA_OCTAVES = (0, 7)

# Qualities the estimator can name (theory's spelling), and the score each loses against
# a plain triad: extensions must explain clearly more than the triad they contain.
VOCABULARY: dict[str, float] = {
    "": 0.0,
    "m": 0.0,
    "7": 0.04,
    "maj7": 0.04,
    "m7": 0.04,
    "dim": 0.06,
    "aug": 0.06,
}
_EXTENSION_WEIGHT = 0.8  # template weight of a seventh relative to the triad tones
# A chord tone is heard with its overtones: harmonic h sounds 12*log2(h) semitones up
# and is weighted _HARMONIC_DECAY ** (h - 1) in the template (Gomez's harmonic templates).
_HARMONICS = 6
_HARMONIC_DECAY = 0.8
_NO_CHORD_SCORE = 2.0  # a silent step scores this for N (and nothing for any chord)
SILENCE_DB = -30.0  # a step this far below the loud frames (90th percentile) is silent
_SCORE_SECONDS = 0.0025  # a score lead held this long is worth one nat of evidence
_MEAN_CHORD_S = 2.0  # expected chord length: sets the Viterbi self-transition


class ChordSegment(NamedTuple):
    """One chord heard from `start_s` to `end_s`."""

    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class ChromaFrames:
    """Harmonic chroma of a whole recording: pitch-class energies (12, n_frames), C
    first, frame k starting at k * hop_s; and each frame's harmonic level in dB
    relative to the loud frames (the 90th percentile)."""

    chroma: FloatArray
    level_db: FloatArray
    hop_s: float

    @property
    def n_frames(self) -> int:
        return int(self.chroma.shape[1])


def chroma_frames(audio: NDArray[np.floating], *, sample_rate: int) -> ChromaFrames:
    """Harmonic chroma of `audio` (mono or (channels, n)), analysed at 22.05 kHz."""
    librosa = _librosa()
    mono = _mono(audio, sample_rate=sample_rate)
    if not np.any(mono):
        raise ParameterError("audio is silent: no chords to find")
    if sample_rate != ANALYSIS_SAMPLE_RATE:
        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=ANALYSIS_SAMPLE_RATE)
    bins_per_octave = 12 * _BINS_PER_SEMITONE
    spectrum = np.abs(
        librosa.cqt(
            mono,
            sr=ANALYSIS_SAMPLE_RATE,
            hop_length=_HOP,
            fmin=librosa.midi_to_hz(_LOWEST_MIDI - 1.0 / _BINS_PER_SEMITONE),
            n_bins=_OCTAVES * bins_per_octave,
            bins_per_octave=bins_per_octave,
        )
    ).astype(np.float64)
    harmonic = _median_across_time(spectrum, _HARMONIC_KERNEL)
    peak = float(harmonic.max())
    if peak <= 0.0:
        raise ParameterError("audio is silent: no chords to find")
    semitones = _whiten(_fold_semitones(np.log1p(_LOG_GAIN * harmonic / peak)))
    level_db = 10.0 * np.log10(np.square(harmonic / peak).sum(axis=0) + 1e-20)
    return ChromaFrames(
        chroma=_fold_octaves(semitones[12 * _CHROMA_OCTAVES[0] : 12 * _CHROMA_OCTAVES[1]]),
        level_db=level_db - np.percentile(level_db, 90),
        hop_s=_HOP / ANALYSIS_SAMPLE_RATE,
    )


def _median_across_time(spectrum: FloatArray, kernel: int) -> FloatArray:
    from scipy.ndimage import median_filter

    return np.asarray(median_filter(spectrum, size=(1, kernel), mode="nearest"), dtype=np.float64)


def _fold_semitones(spectrum: FloatArray) -> FloatArray:
    """Each semitone's centre bin plus half its two neighbours (tolerates slight detuning)."""
    n_semitones = spectrum.shape[0] // _BINS_PER_SEMITONE
    shaped = spectrum[: n_semitones * _BINS_PER_SEMITONE].reshape(
        n_semitones, _BINS_PER_SEMITONE, -1
    )
    weights = np.array([0.5, 1.0, 0.5])[:, np.newaxis]
    return np.asarray((shaped * weights).sum(axis=1), dtype=np.float64)


def _whiten(semitones: FloatArray) -> FloatArray:
    """Keep what stands above each frame's mean level: broadband noise falls away,
    pitched peaks remain."""
    return np.asarray(np.maximum(semitones - semitones.mean(axis=0, keepdims=True), 0.0))


def _fold_octaves(semitones: FloatArray) -> FloatArray:
    octaves = semitones.shape[0] // 12
    folded = semitones[: octaves * 12].reshape(octaves, 12, -1).sum(axis=0)
    return np.asarray(folded, dtype=np.float64)


# --------------------------------------------------------------------------- estimation


@cache
def _templates() -> tuple[tuple[str, ...], FloatArray, FloatArray]:
    """Chord labels, their unit-norm 12-bin templates, and their quality penalties."""
    labels: list[str] = []
    rows: list[FloatArray] = []
    penalties: list[float] = []
    for quality, penalty in VOCABULARY.items():
        intervals = parse_chord("C" + quality).intervals
        for root in range(12):
            row = np.zeros(12)
            for index, interval in enumerate(intervals):
                weight = 1.0 if index < 3 else _EXTENSION_WEIGHT
                for harmonic in range(1, _HARMONICS + 1):
                    offset = round(12 * np.log2(harmonic))
                    row[(root + interval + offset) % 12] += weight * _HARMONIC_DECAY ** (
                        harmonic - 1
                    )
            labels.append(MINOR_TONICS[root] + quality)
            rows.append(row / np.linalg.norm(row))
            penalties.append(penalty)
    return tuple(labels), np.stack(rows), np.array(penalties)


def chord_scores(
    chroma: FloatArray, level_db: FloatArray | None = None
) -> tuple[tuple[str, ...], FloatArray]:
    """Score of every chord label (and N, last) at each step of a (12, n_steps) chroma:
    the cosine with the chord's template less its quality's penalty. A step whose
    `level_db` (relative to the loud steps) is below -30 dB, or with no chroma, is
    silent and scores only for N."""
    if chroma.ndim != 2 or chroma.shape[0] != 12 or not np.all(np.isfinite(chroma)):
        raise ParameterError("chroma must be finite and shaped (12, n_steps)")
    levels = np.zeros(chroma.shape[1]) if level_db is None else np.asarray(level_db, float)
    if levels.shape != (chroma.shape[1],):
        raise ParameterError("level_db needs one value per chroma step")
    labels, templates, penalties = _templates()
    silent = (levels < SILENCE_DB) | (chroma.sum(axis=0) <= 0.0)
    unit = chroma / np.maximum(np.linalg.norm(chroma, axis=0, keepdims=True), 1e-12)
    scores = templates @ unit - penalties[:, np.newaxis]
    scores[:, silent] = 0.0
    no_chord = np.where(silent, _NO_CHORD_SCORE, 0.0)[np.newaxis, :]
    return (*labels, NO_CHORD), np.vstack([scores, no_chord])


def estimate_chords(
    audio: NDArray[np.floating],
    *,
    sample_rate: int,
    beat_times_s: Sequence[float] | FloatArray | None = None,
    frames: ChromaFrames | None = None,
) -> list[ChordSegment]:
    """Chords heard in `audio`, as consecutive segments covering it.

    With `beat_times_s` the chroma is taken per beat (median over each beat), so a
    chord can change only on a beat; without, per CQT frame. `frames` reuses chroma
    already computed from the same audio.
    """
    chroma = frames if frames is not None else chroma_frames(audio, sample_rate=sample_rate)
    duration_s = chroma.n_frames * chroma.hop_s
    edges = _step_edges(chroma, beat_times_s)
    levels = _aggregate(chroma.level_db[np.newaxis, :], edges)[0]
    labels, scores = chord_scores(_aggregate(chroma.chroma, edges), levels)
    step_s = duration_s / max(len(edges) - 1, 1)
    path = viterbi_path(scores, step_s=step_s)
    times = np.asarray(edges, dtype=np.float64) * chroma.hop_s
    segments: list[ChordSegment] = []
    for index, state in enumerate(path):
        start, end, label = float(times[index]), float(times[index + 1]), labels[state]
        if segments and segments[-1].label == label:
            segments[-1] = segments[-1]._replace(end_s=end)
        else:
            segments.append(ChordSegment(start, end, label))
    return segments


def _step_edges(
    chroma: ChromaFrames, beat_times_s: Sequence[float] | FloatArray | None
) -> list[int]:
    n = chroma.n_frames
    if beat_times_s is None:
        return list(range(n + 1))
    beats = np.asarray(beat_times_s, dtype=np.float64)
    if beats.ndim != 1 or np.any(np.diff(beats) <= 0):
        raise ParameterError("beat times must be a strictly ascending 1-D sequence")
    frames = np.rint(beats / chroma.hop_s).astype(int)
    inner = sorted({int(f) for f in frames if 0 < f < n})
    return [0, *inner, n]


def _aggregate(chroma: FloatArray, edges: list[int]) -> FloatArray:
    columns = [np.median(chroma[:, a:b], axis=1) for a, b in pairwise(edges)]
    return np.stack(columns, axis=1)


def viterbi_path(scores: FloatArray, *, step_s: float) -> NDArray[np.intp]:
    """Most likely state per step of `step_s` seconds: softmax(scores * step_s /
    _SCORE_SECONDS) as the observation likelihood (so evidence grows with time, whatever
    the step) and a transition matrix that stays put with probability 1 - step/_MEAN_CHORD_S."""
    librosa = _librosa()
    n_states = scores.shape[0]
    scaled = scores * (step_s / _SCORE_SECONDS)
    likelihood = np.exp(scaled - scaled.max(axis=0, keepdims=True))
    likelihood /= likelihood.sum(axis=0, keepdims=True)
    p_stay = float(np.clip(1.0 - step_s / _MEAN_CHORD_S, 0.5, 0.999))
    transition = librosa.sequence.transition_loop(n_states, p_stay)
    return np.asarray(librosa.sequence.viterbi(likelihood, transition), dtype=np.intp)


# --------------------------------------------------------------------------- sequences


def chord_sequence(
    segments: Sequence[ChordSegment], *, start_s: float = 0.0, end_s: float | None = None
) -> list[str]:
    """The chord labels in order, repeats collapsed and N left out (as Chordino's first and
    last "N" were in MusicBench), for the segments overlapping [start_s, end_s)."""
    sequence: list[str] = []
    for segment in segments:
        if segment.end_s <= start_s or (end_s is not None and segment.start_s >= end_s):
            continue
        if segment.label != NO_CHORD and (not sequence or sequence[-1] != segment.label):
            sequence.append(segment.label)
    return sequence


def reduce_chord(label: str) -> str:
    """Root pitch class and triad third: "Bbmaj7" -> "Bb:maj", "F#m7b5/E" -> "F#:min".

    The reduction used for matching: the bass note is ignored, sevenths, sixths and
    extensions are dropped, and the third decides major or minor (dim and m7b5 are minor;
    aug, sus and power chords count as major). Enharmonic roots are equal. Mustango
    compared Chordino's labels as strings; our estimator's vocabulary is not Chordino's,
    so both sides are reduced to what both can name.
    """
    if label == NO_CHORD:
        return NO_CHORD
    chord = parse_chord(label)
    return f"{MINOR_TONICS[chord.root_pc]}:{'min' if chord.is_minor else 'maj'}"


def exact_chord(label: str) -> str:
    """Root pitch class and full quality, bass ignored: "C#7/E#" -> "C#:7", "Dbmaj7" -> "C#:maj7"."""
    if label == NO_CHORD:
        return NO_CHORD
    chord = parse_chord(label)
    return f"{MINOR_TONICS[chord.root_pc]}:{chord.quality or 'maj'}"


def matched_in_order(heard: Sequence[str], asked: Sequence[str]) -> int:
    """How many of `asked`, from its start, appear in order in `heard` (Mustango's
    `is_subsequence`: a greedy scan; the whole of `asked` matched means a perfect match)."""
    matched = 0
    for label in heard:
        if matched < len(asked) and label == asked[matched]:
            matched += 1
    return matched


def matched_any_order(heard: Sequence[str], asked: Sequence[str]) -> int:
    """How many of `asked` appear in `heard` in any order, each heard chord used once."""
    available = Counter(heard)
    matched = 0
    for label in asked:
        if available[label] > 0:
            available[label] -= 1
            matched += 1
    return matched


class ChordMatch(NamedTuple):
    """Mustango's chord metrics for one piece (each averaged over pieces by the caller).

    pcm: every asked chord heard, in order (Perfect Chord Match);
    ecm: the share of asked chords heard in order (Exact Chord Match);
    cmo: the share heard in any order, quality exact (Chord Match in any Order);
    cmot: the share heard in any order, major/minor only (CMO, Type).
    """

    pcm: bool
    ecm: float
    cmo: float
    cmot: float


def chord_match(heard: Sequence[str], asked: Sequence[str]) -> ChordMatch | None:
    """Compare heard chord labels with the asked ones; None when nothing was asked.

    PCM, ECM and CMOT compare `reduce_chord` labels; CMO compares `exact_chord` labels.
    "N" is dropped from both sides: it is silence, not a chord to play.
    """
    asked = [c for c in asked if c != NO_CHORD]
    heard = [c for c in heard if c != NO_CHORD]
    if not asked:
        return None
    reduced_asked = _keyed(asked, reduce_chord)
    reduced_heard = _keyed(heard, reduce_chord)
    in_order = matched_in_order(reduced_heard, reduced_asked)
    return ChordMatch(
        pcm=in_order == len(asked),
        ecm=in_order / len(asked),
        cmo=matched_any_order(_keyed(heard, exact_chord), _keyed(asked, exact_chord)) / len(asked),
        cmot=matched_any_order(reduced_heard, reduced_asked) / len(asked),
    )


def _keyed(labels: Sequence[str], key: Callable[[str], str]) -> list[str]:
    return [key(label) for label in labels]


def chord_overlap(
    heard: Sequence[ChordSegment],
    reference: Sequence[ChordSegment],
    *,
    key: Callable[[str], str] = reduce_chord,
) -> float | None:
    """Share of the reference's chord time (N left out) where the heard chord agrees
    under `key` (MIREX's chord symbol recall); None when the reference has no chords."""
    total = 0.0
    agreed = 0.0
    for ref in reference:
        if ref.label == NO_CHORD:
            continue
        total += ref.end_s - ref.start_s
        for seg in heard:
            overlap = min(ref.end_s, seg.end_s) - max(ref.start_s, seg.start_s)
            if overlap > 0 and seg.label != NO_CHORD and key(seg.label) == key(ref.label):
                agreed += overlap
    return agreed / total if total > 0 else None
