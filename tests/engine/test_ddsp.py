"""DDSP maths and the fast note renderer: pitch, band limits, clicks, determinism, presets."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.engine.ddsp import (
    apply_hints,
    clear_caches,
    filtered_noise,
    fold_into_range,
    harmonic_synthesis,
    hint_loudness_db,
    midi_to_hz,
    render_notes,
)
from soundstar.engine.timbres import TIMBRE_IDS, load_timbre
from soundstar.errors import ParameterError

SR = 44100


def _f0_by_spectrum(x: np.ndarray, sr: int) -> float:
    """Fundamental estimate: strongest low peak of a zero-padded spectrum, parabolic refined."""
    n_fft = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    band = (freqs > 50) & (freqs < 2000)
    k = int(np.argmax(np.where(band, spec, 0)))
    a, b, c = np.log(spec[k - 1 : k + 2])
    return float(freqs[k] + 0.5 * (a - c) / (a - 2 * b + c) * (freqs[1] - freqs[0]))


def test_harmonic_synthesis_matches_a_direct_sum_of_sines() -> None:
    n = 4000
    f0 = np.full(5, 220.0)
    amp = np.full(5, 0.5)
    dist = np.tile([1.0, 0.5, 0.25], (5, 1))
    y = harmonic_synthesis(f0, amp, dist, sample_rate=SR, n_samples=n)
    t = np.arange(1, n + 1) / SR
    w = np.array([1.0, 0.5, 0.25]) / 1.75
    ref = 0.5 * sum(w[k] * np.sin(2 * np.pi * 220.0 * (k + 1) * t) for k in range(3))
    assert np.max(np.abs(y - ref)) < 1e-4


def test_harmonic_synthesis_drops_harmonics_above_nyquist_and_renormalises() -> None:
    n = 8192
    f0 = np.full(3, 5000.0)  # harmonics 5, 10, 15, 20 kHz; 25 kHz and up are above Nyquist
    dist = np.ones((3, 8))
    y = harmonic_synthesis(f0, np.ones(3), dist, sample_rate=SR, n_samples=n)
    spec = np.abs(np.fft.rfft(y * np.hanning(n)))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    # the four surviving harmonics share the distribution: each at 1/4 amplitude
    for h in (5000, 10000, 15000, 20000):
        peak = spec[np.argmin(np.abs(freqs - h))]
        assert peak > 0.2 * spec.max()
    aliased = spec[(freqs > 1000) & (np.abs(freqs % 5000 - 2500) < 2000)]
    assert aliased.max() < 1e-3 * spec.max()


def test_harmonic_synthesis_rejects_mismatched_shapes() -> None:
    with pytest.raises(ParameterError):
        harmonic_synthesis(np.ones(3), np.ones(4), np.ones((3, 2)), sample_rate=SR, n_samples=10)


def test_filtered_noise_follows_band_magnitudes_in_frequency_and_time() -> None:
    n = SR
    mags = np.zeros((10, 65))
    mags[:5, :8] = 1.0  # first half: lowest eighth of the spectrum only
    y = filtered_noise(mags, n_samples=n, rng=np.random.default_rng(0))
    assert y.shape == (n,) and y.dtype == np.float32
    first, second = y[: n // 2 - 3000], y[n // 2 + 3000 :]
    assert np.sqrt(np.mean(second**2)) < 0.01 * np.sqrt(np.mean(first**2))
    spec = np.abs(np.fft.rfft(first)) ** 2
    freqs = np.fft.rfftfreq(first.size, 1 / SR)
    assert spec[freqs < SR / 16 * 1.3].sum() > 0.95 * spec.sum()


def test_filtered_noise_is_deterministic_per_seed() -> None:
    mags = np.ones((4, 33))
    a = filtered_noise(mags, n_samples=1000, rng=np.random.default_rng(3))
    b = filtered_noise(mags, n_samples=1000, rng=np.random.default_rng(3))
    c = filtered_noise(mags, n_samples=1000, rng=np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _one_note(
    preset_id: str, pitch: float, duration_s: float = 1.0, n_s: float = 1.5
) -> np.ndarray:
    return render_notes(
        np.array([pitch]), np.array([0.0]), np.array([duration_s]), np.array([0.8]),
        preset=load_timbre(preset_id), sample_rate=SR, n_samples=int(n_s * SR),
        rng=np.random.default_rng(0),
    )  # fmt: skip


@pytest.mark.parametrize("preset_id", ["organ", "synth_lead", "strings", "flute", "bass_synth"])
def test_rendered_a4_is_440_hz(preset_id: str) -> None:
    y = _one_note(preset_id, 69.0, duration_s=1.0)
    f0 = _f0_by_spectrum(y[int(0.2 * SR) : int(0.9 * SR)], SR)
    assert abs(f0 - 440.0) / 440.0 < 0.005


def test_high_notes_have_no_energy_above_nyquist_folding_back() -> None:
    # C8 with 60 harmonics: only harmonics under Nyquist may exist, at multiples of f0
    y = _one_note("synth_lead", 108.0, duration_s=0.5, n_s=0.6)
    seg = y[1000:20000]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    freqs = np.fft.rfftfreq(seg.size, 1 / SR)
    f0 = float(midi_to_hz(108.0))
    harmonic = np.zeros_like(freqs, dtype=bool)
    for k in range(1, int(SR / 2 / f0) + 1):
        harmonic |= np.abs(freqs - k * f0) < 60.0
    assert spec[~harmonic].max() < 0.01 * spec.max()


@pytest.mark.parametrize(
    "preset_id", ["piano", "synth_pad", "organ", "guitar_distorted", "supersaw"]
)
def test_notes_start_and_end_without_clicks(preset_id: str) -> None:
    onsets = np.array([0.1, 0.6, 1.1])
    y = render_notes(
        np.array([60.0, 64.0, 67.0]), onsets, np.array([0.4, 0.4, 0.4]), np.array([1.0, 1.0, 1.0]),
        preset=load_timbre(preset_id), sample_rate=SR, n_samples=3 * SR, rng=np.random.default_rng(1),
    )  # fmt: skip
    rms = float(np.sqrt(np.mean(y[y != 0] ** 2)))
    jumps = np.abs(np.diff(y))
    for t in (*onsets, *(onsets + 0.4)):
        i = int(t * SR)
        assert jumps[i - 2 : i + 3].max() < 0.6 * rms
    assert (
        y[0] == 0.0 and abs(y[-1]) < 1e-6
    )  # silence before the first note and after the last tail


def test_note_cut_by_the_end_of_the_track_fades_out() -> None:
    y = _one_note("organ", 60.0, duration_s=2.0, n_s=1.0)
    assert abs(y[-1]) < 1e-6 and np.max(np.abs(y)) > 0.05


def test_same_seed_same_audio_other_seed_other_audio() -> None:
    args = (
        np.array([60.0, 67.0]),
        np.array([0.0, 0.2]),
        np.array([0.5, 0.5]),
        np.array([0.7, 0.9]),
    )
    kw = {"preset": load_timbre("piano"), "sample_rate": SR, "n_samples": SR}
    a = render_notes(*args, **kw, rng=np.random.default_rng(5))  # type: ignore[arg-type]
    b = render_notes(*args, **kw, rng=np.random.default_rng(5))  # type: ignore[arg-type]
    c = render_notes(*args, **kw, rng=np.random.default_rng(6))  # type: ignore[arg-type]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_renders_on_two_threads_sharing_the_caches_equal_renders_one_after_another() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def play(preset_id: str) -> np.ndarray:
        rng = np.random.default_rng(9)
        pitch = np.arange(48.0, 84.0, 0.5)  # many pitches: many loops built and cached
        onset = np.arange(pitch.size) * 0.05
        return render_notes(
            pitch, onset, np.full(pitch.size, 0.3), np.full(pitch.size, 0.8),
            preset=load_timbre(preset_id), sample_rate=SR, n_samples=SR * 4, rng=rng,
        )  # fmt: skip

    presets = ["piano", "synth_pad", "bass_synth", "synth_lead"]
    clear_caches()
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(play, presets))
    clear_caches()
    for preset_id, audio in zip(presets, together, strict=True):
        np.testing.assert_array_equal(audio, play(preset_id))


def test_velocity_makes_notes_louder_and_brighter() -> None:
    def render(vel: float) -> np.ndarray:
        return render_notes(
            np.array([60.0]), np.array([0.0]), np.array([0.5]), np.array([vel]),
            preset=load_timbre("piano"), sample_rate=SR, n_samples=SR, rng=np.random.default_rng(0),
        )  # fmt: skip

    soft, hard = render(0.3), render(1.0)
    assert np.sqrt(np.mean(hard**2)) > 3 * np.sqrt(np.mean(soft**2))

    def high_share(x: np.ndarray) -> float:
        seg = x[4000:12000]  # after the hammer noise, before the tone has darkened
        power = np.abs(np.fft.rfft(seg)) ** 2
        freqs = np.fft.rfftfreq(seg.size, 1 / SR)
        return float(power[freqs > 1000].sum() / power.sum())

    assert high_share(hard) > 2.0 * high_share(soft)


def test_brightness_decays_over_a_piano_note() -> None:
    y = _one_note("piano", 57.0, duration_s=2.0, n_s=2.0)

    def centroid(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        freqs = np.fft.rfftfreq(x.size, 1 / SR)
        return float((spec * freqs).sum() / spec.sum())

    assert centroid(y[2000:10000]) > 1.3 * centroid(y[int(1.5 * SR) : int(1.5 * SR) + 8000])


@pytest.mark.parametrize("preset_id", TIMBRE_IDS)
def test_every_preset_renders_finite_non_silent_audio(preset_id: str) -> None:
    y = render_notes(
        np.array([48.0, 60.0, 72.0]), np.array([0.0, 0.3, 0.6]), np.array([0.3, 0.3, 0.3]),
        np.array([0.8, 0.6, 1.0]), preset=load_timbre(preset_id), sample_rate=22050,
        n_samples=22050 * 2, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert y.dtype == np.float32 and np.all(np.isfinite(y))
    assert np.sqrt(np.mean(y**2)) > 0.01 and np.max(np.abs(y)) < 4.0


def test_presets_differ_from_one_another() -> None:
    f0 = float(midi_to_hz(60.0))
    profiles = {}
    for preset_id in ("piano", "organ", "flute", "brass", "choir", "bell", "reed", "strings"):
        seg = _one_note(preset_id, 60.0)[4000:40000]
        spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
        freqs = np.fft.rfftfreq(seg.size, 1 / SR)
        levels = np.array([spec[np.abs(freqs - k * f0) < f0 / 4].max() for k in range(1, 11)])
        profiles[preset_id] = np.maximum(20 * np.log10(levels / levels.max() + 1e-9), -60.0)
    ids = list(profiles)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            assert np.mean(np.abs(profiles[a] - profiles[b])) > 3.0, (a, b)


def test_render_notes_rejects_bad_input() -> None:
    preset = load_timbre("piano")
    with pytest.raises(ParameterError):
        render_notes(
            np.array([60.0]),
            np.array([0.0, 1.0]),
            np.array([1.0]),
            np.array([0.5]),
            preset=preset,
            sample_rate=SR,
            n_samples=SR,
            rng=np.random.default_rng(0),
        )
    with pytest.raises(ParameterError):
        render_notes(
            np.array([60.0]),
            np.array([0.0]),
            np.array([1.0]),
            np.array([1.5]),
            preset=preset,
            sample_rate=SR,
            n_samples=SR,
            rng=np.random.default_rng(0),
        )


def test_unknown_timbre_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        load_timbre("theremin")


def test_fold_into_range_moves_by_octaves_only() -> None:
    pitch = np.array([30.0, 61.0, 100.0, 55.0])
    folded = fold_into_range(pitch, 48.0, 72.0)
    assert np.all((folded >= 48) & (folded <= 72))
    assert np.all(np.mod(folded - pitch, 12.0) == 0)
    assert folded[1] == 61.0 and folded[3] == 55.0


def test_apply_hints_moves_noise_tilt_and_gain() -> None:
    flute = load_timbre("flute")
    pure = apply_hints(flute, harmonic_mix=1.0, loudness_db=None)
    breathy = apply_hints(flute, harmonic_mix=0.0, loudness_db=-6.0)
    assert pure.noise_level == 0.0 and pure.tilt_db_per_oct > flute.tilt_db_per_oct
    assert breathy.noise_level > flute.noise_level and breathy.gain_db == flute.gain_db - 6.0
    assert apply_hints(flute, harmonic_mix=0.5, loudness_db=None) == flute
    with pytest.raises(ParameterError):
        apply_hints(flute, harmonic_mix=1.5, loudness_db=None)
    assert hint_loudness_db(0.7) == pytest.approx(0.0)
    assert hint_loudness_db(0.35) == pytest.approx(-6.02, abs=0.01)
    assert hint_loudness_db(-3.0) == -3.0
