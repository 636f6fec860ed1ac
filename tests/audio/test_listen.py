"""Listening to a clip: what it reads (WAV, FLAC, MP3 within limits, a clear error for the
rest) and what it hears (tempo, key, meter, loudness, energy by section, brightness)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundstar.audio.analysis import keys_equal, tempo_matches
from soundstar.audio.listen import analyze_audio, analyze_clip, read_clip
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.render import render_score
from soundstar.errors import ParameterError, PayloadTooLargeError

SR = 22050


def _tone(freqs: list[float], seconds: float, amp: float = 0.1) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return sum(amp * np.sin(2 * np.pi * f * t) for f in freqs) * np.exp(-3 * t)


def _waltz(bpm: float, seconds: float) -> np.ndarray:
    """A bass note on each downbeat of 3/4 and a lighter chord on beats 2 and 3, in G major
    (I IV V I), decaying like a plucked instrument."""
    beat = 60.0 / bpm
    out = np.zeros(round(seconds * SR) + SR)
    chords = [(98.0, [196.0, 246.9, 293.7]), (130.8, [261.6, 329.6, 392.0]),
              (146.8, [293.7, 370.0, 440.0]), (98.0, [196.0, 246.9, 293.7])]  # fmt: skip
    n_beats = int(seconds / beat)
    for i in range(n_beats):
        bass, chord = chords[(i // 3) % 4]
        start = round(i * beat * SR)
        note = _tone([bass, *chord], beat, 0.3) if i % 3 == 0 else _tone(chord, beat, 0.08)
        out[start : start + note.size] += note
    return np.stack([out, out])[:, : round(seconds * SR)].astype(np.float32)


def test_a_waltz_is_heard_at_its_tempo_key_and_meter() -> None:
    heard = analyze_audio(_waltz(96.0, 24.0), sample_rate=SR)
    assert tempo_matches(heard.tempo_bpm, 96.0)
    assert keys_equal(heard.key, "G major")
    assert heard.time_signature == "3/4"
    assert heard.duration_seconds == pytest.approx(24.0)
    assert -60 < heard.integrated_lufs < 0
    assert 100 < heard.brightness_hz < 2000


def test_energy_by_section_follows_the_level() -> None:
    """Segments of whole bars; a quiet half reads lower energy than a loud half."""
    clip = _waltz(120.0, 32.0)
    clip[:, clip.shape[1] // 2 :] *= 0.1
    heard = analyze_audio(clip, sample_rate=SR)
    segments = heard.sections
    assert segments[0].start_seconds == 0.0 and segments[-1].end_seconds == pytest.approx(32.0)
    bar_s = 3 * 60.0 / heard.tempo_bpm
    assert all(s.end_seconds - s.start_seconds >= 2 * bar_s for s in segments)
    half = len(segments) // 2
    assert max(s.energy for s in segments[half:]) < min(s.energy for s in segments[:half])


def test_a_render_is_heard_at_the_tempo_and_key_it_was_made_in() -> None:
    understood = Aurora().understand("an upbeat pop song at 120 bpm in D major")
    score = compose(understood.parameters, understood.plan, seed=3)
    heard = analyze_audio(render_score(score, sample_rate=SR, seed=3).audio, sample_rate=SR)
    assert tempo_matches(heard.tempo_bpm, 120.0)
    assert keys_equal(heard.key, "D major")


@pytest.mark.parametrize(("fmt", "suffix"), [("WAV", "wav"), ("FLAC", "flac"), ("MP3", "mp3")])
def test_wav_flac_and_mp3_are_read(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"clip.{suffix}"
    sf.write(path, _waltz(96.0, 8.0).T, SR, format=fmt)
    audio, rate, kind = read_clip(path)
    assert (rate, kind, audio.shape[0]) == (SR, suffix, 2)
    assert abs(audio.shape[1] - 8 * SR) < SR // 10
    assert analyze_clip(path).format == suffix


def test_silence_has_nothing_to_hear() -> None:
    with pytest.raises(ParameterError, match="silent"):
        analyze_audio(np.zeros((2, 5 * SR), dtype=np.float32), sample_rate=SR)


def _write(path: Path, seconds: float, fmt: str = "WAV") -> Path:
    sf.write(path, np.zeros((round(seconds * SR), 1), dtype=np.float32) + 0.01, SR, format=fmt)
    return path


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "needle"),
    [
        (lambda p: p.with_suffix(".txt").write_text("#!/bin/sh\necho hi\n") and p.with_suffix(".txt"),
         {}, ParameterError, "not audio"),
        (lambda p: _write(p.with_suffix(".ogg"), 4, "OGG"), {}, ParameterError, "use WAV, FLAC or MP3"),
        (lambda p: _write(p, 1), {}, ParameterError, "at least 3 s"),
        (lambda p: _write(p, 6), {"max_seconds": 5}, ParameterError, "the limit is 5 s"),
        (lambda p: _write(p, 6), {"max_bytes": 1000}, PayloadTooLargeError, "the limit is"),
        (lambda p: p.with_name("missing.wav"), {}, ParameterError, "cannot read"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_with_a_clear_error(
    tmp_path: Path, make, kwargs: dict, error: type, needle: str
) -> None:
    path = make(tmp_path / "clip.wav")
    with pytest.raises(error, match=needle):
        read_clip(path, **kwargs)
