"""Sampler: GM SoundFont playback through tinysoundfont (skips without an SF2 on disk)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.engine import sampler
from soundstar.engine.sampler import (
    SoundFontSampler,
    find_soundfont,
    prefers_sampler,
    sampler_status,
)
from soundstar.errors import ConfigError, ParameterError

SR = 22050
_SF2 = find_soundfont(None)
_TSF = pytest.importorskip("tinysoundfont", reason="tinysoundfont is not installed")
needs_sf2 = pytest.mark.skipif(
    _SF2 is None,
    reason="no General MIDI SoundFont at /usr/share/sounds/sf2/ "
    "(install the Debian package fluid-soundfont-gm)",
)


@pytest.fixture(scope="module")
def sf2() -> SoundFontSampler:
    if _SF2 is None:
        pytest.skip("no General MIDI SoundFont installed (apt-get install fluid-soundfont-gm)")
    return SoundFontSampler.load(_SF2, sample_rate=SR)


def _one(
    pitch: float, *, onset_s: float = 0.0, duration_s: float = 0.8, velocity: float = 0.8
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([pitch]),
        np.array([onset_s]),
        np.array([duration_s]),
        np.array([velocity]),
    )


def _f0_hz(audio: np.ndarray, *, sample_rate: int, lo_hz: float = 50.0) -> float:
    """Fundamental by autocorrelation (first strong peak), refined by parabolic fit."""
    x = audio.astype(np.float64) - audio.mean()
    spec = np.fft.rfft(x, 2 * x.size)
    ac = np.fft.irfft(spec * np.conj(spec))[: x.size]
    ac /= ac[0]
    lag_min = int(sample_rate / 2000.0)
    lag_max = int(sample_rate / lo_hz)
    seg = ac[lag_min:lag_max]
    lag = lag_min + int(np.argmax(seg > 0.8 * seg.max()))
    while ac[lag + 1] > ac[lag]:
        lag += 1
    a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
    return float(sample_rate / (lag + 0.5 * (a - c) / (a - 2 * b + c)))


# --------------------------------------------------------------------------- no SF2 needed


def test_prefers_sampler_for_acoustic_programs_not_synths() -> None:
    assert prefers_sampler(0)  # acoustic grand
    assert prefers_sampler(40)  # violin
    assert prefers_sampler(25)  # steel guitar
    assert prefers_sampler(56)  # trumpet
    assert prefers_sampler(73)  # flute
    assert not prefers_sampler(81)  # saw lead
    assert not prefers_sampler(89)  # warm pad
    assert not prefers_sampler(38)  # synth bass
    assert prefers_sampler(81, is_drum=True)


def test_prefers_sampler_rejects_out_of_range_program() -> None:
    with pytest.raises(ParameterError):
        prefers_sampler(128)


def test_sampled_families_are_disjoint_and_in_gm_range() -> None:
    seen: list[int] = [p for ps in sampler.SAMPLED_FAMILIES.values() for p in ps]
    assert len(seen) == len(set(seen))
    assert all(0 <= p <= 127 for p in seen)


def test_find_soundfont_prefers_configured_path(tmp_path: Path) -> None:
    sf = tmp_path / "mine.sf2"
    sf.write_bytes(b"x")
    assert find_soundfont(sf) == sf


def test_find_soundfont_configured_but_missing_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.sf2"):
        find_soundfont(tmp_path / "missing.sf2")


def test_find_soundfont_falls_back_to_debian_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "FluidR3_GM.sf2"
    monkeypatch.setattr(sampler, "STANDARD_SOUNDFONT_PATHS", (tmp_path / "none.sf2", fake))
    assert find_soundfont(None) is None
    fake.write_bytes(b"x")
    assert find_soundfont(None) == fake


def test_sampler_status_names_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampler, "STANDARD_SOUNDFONT_PATHS", (tmp_path / "none.sf2",))
    ok, why = sampler_status(None)
    assert not ok and "no SoundFont configured" in why
    ok, why = sampler_status(tmp_path / "gone.sf2")
    assert not ok and "gone.sf2" in why
    real = tmp_path / "a.sf2"
    real.write_bytes(b"x")
    ok, why = sampler_status(real)
    assert ok and str(real) in why


def test_load_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        SoundFontSampler.load(tmp_path / "nope.sf2", sample_rate=SR)


def test_load_corrupt_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF" + bytes(200))
    with pytest.raises(ConfigError, match="could not be read"):
        SoundFontSampler.load(bad, sample_rate=SR)


# --------------------------------------------------------------------------- with an SF2


@needs_sf2
def test_load_is_cached_per_path_and_rate(sf2: SoundFontSampler) -> None:
    assert _SF2 is not None
    assert SoundFontSampler.load(_SF2, sample_rate=SR) is sf2
    assert SoundFontSampler.load(_SF2, sample_rate=16000) is not sf2


@needs_sf2
def test_piano_a4_sounds_at_440_hz(sf2: SoundFontSampler) -> None:
    y = sf2.render_notes(*_one(69.0), program=0, is_drum=False, n_samples=SR)
    seg = y[int(0.1 * SR) : int(0.6 * SR)]
    assert np.sqrt(np.mean(seg**2)) > 1e-3
    assert _f0_hz(seg, sample_rate=SR) == pytest.approx(440.0, rel=0.01)


@needs_sf2
def test_fractional_pitch_is_detuned_to_the_cent(sf2: SoundFontSampler) -> None:
    y = sf2.render_notes(*_one(69.5), program=40, is_drum=False, n_samples=SR)
    seg = y[int(0.2 * SR) : int(0.7 * SR)]
    assert _f0_hz(seg, sample_rate=SR) == pytest.approx(440.0 * 2 ** (0.5 / 12), rel=0.006)


@needs_sf2
def test_output_is_mono_float32_of_exactly_n_samples(sf2: SoundFontSampler) -> None:
    for n in (0, 1, 12345):
        y = sf2.render_notes(*_one(60.0, duration_s=2.0), program=0, is_drum=False, n_samples=n)
        assert y.shape == (n,) and y.dtype == np.float32
    assert np.all(np.isfinite(y))


@needs_sf2
def test_silence_without_notes_or_with_zero_velocity(sf2: SoundFontSampler) -> None:
    empty = np.zeros(0)
    y = sf2.render_notes(empty, empty, empty, empty, program=0, is_drum=False, n_samples=SR)
    assert not np.any(y)
    y = sf2.render_notes(*_one(60.0, velocity=0.0), program=0, is_drum=False, n_samples=SR)
    assert not np.any(y)


@needs_sf2
def test_note_starts_on_its_onset_sample(sf2: SoundFontSampler) -> None:
    # the sample's own lead-in (zeros, attack) is the same wherever the note starts
    lead_in = []
    for onset_smp in (0, 11025, 11031):
        y = sf2.render_notes(
            *_one(60.0, onset_s=onset_smp / SR), program=0, is_drum=False, n_samples=SR
        )
        assert not np.any(y[:onset_smp])
        lead_in.append(int(np.argmax(np.abs(y) > 0)) - onset_smp)
    assert lead_in[0] == lead_in[1] == lead_in[2]
    assert 0 <= lead_in[0] < int(0.01 * SR)


@needs_sf2
def test_rendering_is_deterministic_and_state_does_not_leak(sf2: SoundFontSampler) -> None:
    notes = (
        np.array([60.0, 64.0, 67.0]),
        np.array([0.0, 0.1, 0.2]),
        np.array([0.9, 0.9, 0.9]),
        np.array([0.9, 0.7, 0.5]),
    )
    a = sf2.render_notes(*notes, program=48, is_drum=False, n_samples=SR)
    # a long held note cut by n_samples would leave voices sounding if state leaked
    sf2.render_notes(*_one(40.0, duration_s=5.0), program=19, is_drum=False, n_samples=SR // 4)
    b = sf2.render_notes(*notes, program=48, is_drum=False, n_samples=SR)
    np.testing.assert_array_equal(a, b)


@needs_sf2
def test_drums_use_the_percussion_bank(sf2: SoundFontSampler) -> None:
    assert sf2.preset_name(0, is_drum=True) != sf2.preset_name(0)
    kick = sf2.render_notes(*_one(36.0, duration_s=0.1), program=0, is_drum=True, n_samples=SR)
    piano = sf2.render_notes(*_one(36.0, duration_s=0.1), program=0, is_drum=False, n_samples=SR)
    assert np.sqrt(np.mean(kick**2)) > 1e-3
    assert not np.allclose(kick, piano, atol=1e-3)
    hat = sf2.render_notes(*_one(42.0, duration_s=0.1), program=0, is_drum=True, n_samples=SR)
    centroid = [
        float(np.sum(np.arange(s.size) * s) / np.sum(s))
        for s in (np.abs(np.fft.rfft(kick)), np.abs(np.fft.rfft(hat)))
    ]
    assert centroid[1] > 3 * centroid[0]  # closed hi-hat far brighter than bass drum


@needs_sf2
def test_louder_velocity_gives_louder_note(sf2: SoundFontSampler) -> None:
    soft = sf2.render_notes(*_one(60.0, velocity=0.2), program=0, is_drum=False, n_samples=SR)
    loud = sf2.render_notes(*_one(60.0, velocity=1.0), program=0, is_drum=False, n_samples=SR)
    assert np.sqrt(np.mean(loud**2)) > 2 * np.sqrt(np.mean(soft**2))


@needs_sf2
def test_bad_note_arrays_are_rejected(sf2: SoundFontSampler) -> None:
    p, o, d, v = _one(60.0)
    with pytest.raises(ParameterError, match="velocity"):
        sf2.render_notes(p, o, d, v * 2, program=0, is_drum=False, n_samples=SR)
    with pytest.raises(ParameterError, match="shape"):
        sf2.render_notes(p, o[:0], d, v, program=0, is_drum=False, n_samples=SR)
    with pytest.raises(ParameterError, match="program"):
        sf2.render_notes(p, o, d, v, program=200, is_drum=False, n_samples=SR)


@needs_sf2
def test_300_note_track_renders_faster_than_10x_real_time() -> None:
    assert _SF2 is not None
    sf = SoundFontSampler.load(_SF2, sample_rate=44100)
    rng = np.random.default_rng(0)
    n = 300
    onset = np.sort(rng.uniform(0.0, 29.0, n))
    notes = (
        rng.integers(40, 80, n).astype(float),
        onset,
        rng.uniform(0.1, 1.0, n),
        rng.uniform(0.4, 1.0, n),
    )
    t0 = time.perf_counter()
    y = sf.render_notes(*notes, program=0, is_drum=False, n_samples=30 * 44100)
    elapsed = time.perf_counter() - t0
    assert y.shape == (30 * 44100,) and np.sqrt(np.mean(y**2)) > 1e-3
    assert elapsed < 3.0, f"{elapsed:.2f} s for 30 s of audio"


_NOTE = st.tuples(
    st.floats(0.0, 127.0),
    st.floats(0.0, 0.3),
    st.floats(0.001, 0.3),
    st.floats(0.0, 1.0),
)


@needs_sf2
@settings(max_examples=25, deadline=None)
@given(
    notes=st.lists(_NOTE, max_size=12),
    program=st.integers(0, 127),
    is_drum=st.booleans(),
    n_samples=st.integers(0, 6000),
)
def test_any_note_list_gives_finite_float32_of_exact_length(
    notes: list[tuple[float, float, float, float]], program: int, is_drum: bool, n_samples: int
) -> None:
    assert _SF2 is not None
    sf = SoundFontSampler.load(_SF2, sample_rate=SR)
    arr = np.array(notes, dtype=np.float64).reshape(-1, 4).T
    y = sf.render_notes(*arr, program=program, is_drum=is_drum, n_samples=n_samples)
    assert y.shape == (n_samples,) and y.dtype == np.float32
    assert np.all(np.isfinite(y))


def _band_peak_hz(audio: np.ndarray, lo_hz: float, hi_hz: float) -> float:
    n = audio.size
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(n), n=8 * n))
    freqs = np.fft.rfftfreq(8 * n, 1.0 / SR)
    band = (freqs >= lo_hz) & (freqs <= hi_hz)
    return float(freqs[band][np.argmax(spectrum[band])])


def _semitones_to_pc(hz: float, pc: int) -> float:
    """Distance in semitones from `hz` to the nearest pitch of class `pc` (C = 0)."""
    midi = 69.0 + 12.0 * np.log2(hz / 440.0)
    return float(min(abs(midi - (pc + 12 * octave)) for octave in range(11)))


@pytest.mark.parametrize(("note", "band"), [(36, (30.0, 160.0)), (38, (120.0, 400.0))])
@pytest.mark.parametrize("key_pc", [0, 4, 7, 10])
def test_kick_and_snare_are_tuned_to_the_key(
    sf2: SoundFontSampler, note: int, band: tuple[float, float], key_pc: int
) -> None:
    plain = sf2.render_notes(
        *_one(note, duration_s=0.3), program=0, is_drum=True, n_samples=SR // 2
    )
    tuned = sf2.render_notes(
        *_one(note, duration_s=0.3), program=0, is_drum=True, n_samples=SR // 2, key_pc=key_pc
    )
    assert _semitones_to_pc(_band_peak_hz(tuned, *band), key_pc) < 0.35
    shift = 12.0 * np.log2(_band_peak_hz(tuned, *band) / _band_peak_hz(plain, *band))
    assert abs(shift) <= 6.5  # moved to the nearest tonic, never more than a tritone


def test_other_kit_pieces_keep_their_pitch(sf2: SoundFontSampler) -> None:
    hat = _one(42, duration_s=0.2)
    plain = sf2.render_notes(*hat, program=0, is_drum=True, n_samples=SR // 4)
    keyed = sf2.render_notes(*hat, program=0, is_drum=True, n_samples=SR // 4, key_pc=7)
    np.testing.assert_array_equal(plain, keyed)
