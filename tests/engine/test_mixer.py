"""The mixer's guarantees: loudness on target, true peak under the ceiling, no clipping,
no DC, finite output, silence stays silence; stems come back as they sit in the mix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.loudness import integrated_loudness, true_peak_dbtp
from soundstar.engine.blockmix import REVERB_STEM
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import render_drum_hits
from soundstar.engine.effects import biquad_eq
from soundstar.engine.mixer import StemInput, equalise, mix
from soundstar.engine.production import (
    Compressor,
    HighpassFilter,
    HighShelfFilter,
    LowpassFilter,
    PeakFilter,
    default_production,
    parse_mix,
    production_for,
    production_genres,
    run_chain,
)
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ConfigError, ParameterError
from soundstar.knowledge import load_knowledge

SR = 22050
SECONDS = 8.0
N = int(SR * SECONDS)


def _track(timbre: str, pitches: list[int], step_s: float, dur_s: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    onsets = np.arange(0.0, SECONDS - 0.5, step_s)
    pitch = np.array([pitches[i % len(pitches)] for i in range(onsets.size)], dtype=float)
    return render_notes(
        pitch, onsets, np.full(onsets.size, dur_s), rng.uniform(0.6, 0.9, onsets.size),
        preset=load_timbre(timbre), sample_rate=SR, n_samples=N, rng=rng,
    )  # fmt: skip


@pytest.fixture(scope="module")
def song() -> tuple[list[StemInput], np.ndarray]:
    onsets, voices = [], []
    for beat in range(int(SECONDS * 2)):
        onsets += [beat * 0.5, beat * 0.5 + 0.25]
        voices += ["kick" if beat % 2 == 0 else "snare", "closed_hat"]
    drums = render_drum_hits(
        np.array(onsets), voices, np.full(len(onsets), 0.85), kit="electronic_909",
        sample_rate=SR, n_samples=N, rng=np.random.default_rng(1),
    )  # fmt: skip
    stems = [
        StemInput(
            "bass", "bass", _track("bass_synth", [45, 45, 52, 43], 0.5, 0.45, 2), 0.0, -1.5, 0.0
        ),
        StemInput(
            "lead", "lead", _track("synth_lead", [69, 72, 76, 74], 0.25, 0.2, 3), 0.1, -3.5, 0.2
        ),
        StemInput("pad", "pad", _track("synth_pad", [57, 60, 64], 2.0, 1.9, 4), 0.3, -8.0, 0.35),
        StemInput("drums", "drums", drums, 0.0, 0.0, 0.05),
    ]
    kicks = np.array([o for o, v in zip(onsets, voices, strict=True) if v == "kick"])
    return stems, kicks


def _energy() -> np.ndarray:
    t = np.arange(N) / SR
    return np.interp(t, [0, 4, 4.5, 8], [0.4, 0.4, 0.9, 0.9]).astype(np.float32)


@pytest.mark.parametrize("target", [-14.0, -20.0])
def test_mix_meets_every_guarantee(song: tuple[list[StemInput], np.ndarray], target: float) -> None:
    stems, kicks = song
    result = mix(
        stems,
        sample_rate=SR,
        energy_envelope=_energy(),
        target_lufs=target,
        ceiling_dbtp=-1.0,
        sidechain=True,
        sidechain_onsets_s=kicks,
    )
    audio = result.audio
    assert audio.shape == (2, N) and audio.dtype == np.float32
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    measured = integrated_loudness(audio, sample_rate=SR)
    assert abs(measured - target) <= 0.5
    assert abs(result.lufs - measured) < 0.1
    assert true_peak_dbtp(audio, sample_rate=SR) <= -1.0 + 0.1
    assert result.true_peak_dbtp == pytest.approx(true_peak_dbtp(audio, sample_rate=SR))
    assert np.all(np.abs(audio.mean(axis=1)) < 1e-3)


def test_stems_come_back_processed_and_add_up_to_the_master(
    song: tuple[list[StemInput], np.ndarray],
) -> None:
    stems, _ = song
    result = mix(stems, sample_rate=SR, energy_envelope=None)
    assert set(result.stems) == {"bass", "lead", "pad", "drums", REVERB_STEM}
    for stem in result.stems.values():
        assert stem.shape == (2, N) and stem.dtype == np.float32
    # the pad sits right of centre, the lead almost centred
    pad = result.stems["pad"]
    assert np.sqrt(np.mean(pad[1] ** 2)) > np.sqrt(np.mean(pad[0] ** 2))
    # the stems carry the master's gain: they add up to the master (less its DC offset),
    # and none of them alone goes beyond full scale
    bus = np.sum(list(result.stems.values()), axis=0)
    bus -= bus.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(bus, result.audio, atol=2e-3)
    assert max(float(np.abs(s).max()) for s in result.stems.values()) <= 1.0


def test_stems_equalised_beforehand_mix_exactly_and_are_let_go(
    song: tuple[list[StemInput], np.ndarray],
) -> None:
    stems, kicks = song
    ready = [
        StemInput(
            s.name, s.role, equalise(s.audio, role=s.role, sample_rate=SR), s.pan, s.gain_db,
            s.reverb_send, equalised=True,
        )
        for s in stems
    ]  # fmt: skip
    plain, early = (
        mix(s, sample_rate=SR, energy_envelope=_energy(), sidechain=True, sidechain_onsets_s=kicks)
        for s in (stems, ready)
    )
    np.testing.assert_array_equal(early.audio, plain.audio)
    for name, stem in plain.stems.items():
        np.testing.assert_array_equal(early.stems[name], stem)
    assert all(s.audio.size == 0 for s in ready)  # the mixer owned them and freed them
    assert all(s.audio.size == N for s in stems)  # stems not marked are left alone


def test_sidechain_ducks_non_drum_stems_at_kicks(song: tuple[list[StemInput], np.ndarray]) -> None:
    stems, kicks = song
    plain = mix(stems, sample_rate=SR, energy_envelope=None)
    ducked = mix(
        stems, sample_rate=SR, energy_envelope=None, sidechain=True, sidechain_onsets_s=kicks
    )
    at = int((kicks[4] + 0.02) * SR)

    def level_ratio(name: str) -> float:
        """Level at the kick with ducking over without (the master's gain is in both)."""
        window = slice(at - 50, at + 50)
        return float(
            np.abs(ducked.stems[name][:, window]).mean()
            / np.abs(plain.stems[name][:, window]).mean()
        )

    # the pad dips at the kick; the drums, which key the ducking, do not
    assert level_ratio("pad") < 0.8 * level_ratio("drums")


def test_silence_in_silence_out() -> None:
    stems = [
        StemInput("a", "pad", np.zeros(N, dtype=np.float32)),
        StemInput("b", "drums", np.zeros((2, N), dtype=np.float32)),
    ]
    result = mix(stems, sample_rate=SR, energy_envelope=np.zeros(N, dtype=np.float32))
    assert not np.any(result.audio) and not np.any(np.isnan(result.audio))
    assert result.lufs == -math.inf and result.true_peak_dbtp == -math.inf


def test_bad_stems_are_parameter_errors() -> None:
    ok = np.zeros(100, dtype=np.float32)
    with pytest.raises(ParameterError):
        mix([StemInput("a", "vocals", ok)], sample_rate=SR, energy_envelope=None)
    with pytest.raises(ParameterError):
        mix(
            [StemInput("a", "pad", ok), StemInput("b", "pad", np.zeros(99))],
            sample_rate=SR,
            energy_envelope=None,
        )
    with pytest.raises(ParameterError):
        mix([StemInput("a", "pad", np.array([np.nan] * 100))], sample_rate=SR, energy_envelope=None)
    with pytest.raises(ParameterError):
        mix([StemInput("a", "pad", ok)], sample_rate=SR, energy_envelope=np.zeros(5))


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_stems=st.integers(1, 3),
    level=st.floats(1e-4, 50.0),
    ceiling=st.floats(-3.0, -0.5),
    target=st.floats(-24.0, -8.0),
)
def test_mix_property_finite_no_clip_under_ceiling(
    seed: int, n_stems: int, level: float, ceiling: float, target: float
) -> None:
    rng = np.random.default_rng(seed)
    n = SR * 2
    roles = ["lead", "bass", "drums", "pad"]
    stems = []
    for i in range(n_stems):
        audio = (rng.standard_normal(n) * level * rng.uniform(0.1, 1.0)).astype(np.float32)
        audio *= (np.sin(np.linspace(0, rng.uniform(1, 20), n)) > 0).astype(np.float32)
        stems.append(
            StemInput(
                f"s{i}", roles[i], audio, float(rng.uniform(-1, 1)), 0.0, float(rng.uniform(0, 1))
            )
        )
    result = mix(
        stems, sample_rate=SR, energy_envelope=None, target_lufs=target, ceiling_dbtp=ceiling
    )
    assert np.all(np.isfinite(result.audio)) and np.max(np.abs(result.audio)) <= 1.0
    if np.any(result.audio):
        assert true_peak_dbtp(result.audio, sample_rate=SR) <= ceiling + 0.1


# --------------------------------------------------------------------------- production data

_ROLES_YAML = """
default:
  energy_range_db: 4.0
  reverb: {room_size: 0.6, decay_s: 1.8, damping: 0.5}
  bus: {threshold_db: -8.0, ratio: 2.0, attack_ms: 15.0, release_ms: 150.0, knee_db: 6.0}
  sidechain: {depth_db: 5.0, release_ms: 140.0}
  roles:
""" + "".join(
    f"    {role}: {{pan: 0.0, gain_db: -3.0, reverb_send: 0.1, ducked: true,"
    " chain: [{type: highpass, cutoff_hz: 40.0}]}\n"
    for role in ("lead", "chords", "pad", "bass", "drums", "percussion", "arp", "texture")
)


def _noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.2, int(SR * seconds)).astype(np.float32)


def test_a_chain_of_filters_runs_as_one_cascade_of_its_bands() -> None:
    chain = (
        HighpassFilter(cutoff_hz=30.0),
        PeakFilter(cutoff_hz=250.0, gain_db=-1.5, q=1.0),
        HighShelfFilter(cutoff_hz=8000.0, gain_db=1.0),
    )
    x = _noise()
    expected = biquad_eq(x, sample_rate=SR, bands=[p.band() for p in chain])
    np.testing.assert_array_equal(run_chain(x, chain, sample_rate=SR), expected)
    assert run_chain(x, (), sample_rate=SR) is not x  # always a new array


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(min_value=0.01, max_value=4.0))
def test_a_chain_compressor_acts_alike_on_a_quiet_and_a_loud_stem(scale: float) -> None:
    beat = np.zeros(int(SR * 2), dtype=np.float32)
    for start in range(0, beat.size - 2000, SR // 4):
        beat[start : start + 2000] = np.linspace(1.0, 0.0, 2000) * _noise(2000 / SR, start)[:2000]
    beat += 0.02 * _noise(2.0, 9)
    chain = (Compressor(threshold_below_peak_db=12.0, ratio=4.0, attack_ms=1.0, release_ms=80.0),)
    base = run_chain(beat, chain, sample_rate=SR)
    scaled = run_chain(beat * np.float32(scale), chain, sample_rate=SR)
    np.testing.assert_allclose(scaled / np.float32(scale), base, atol=1e-4)

    def crest(a: np.ndarray) -> float:
        return float(np.max(np.abs(a)) / np.sqrt(np.mean(a**2)))

    assert crest(base) < crest(beat) * 0.8


def test_processors_read_as_a_pedalboard() -> None:
    chain = (HighpassFilter(cutoff_hz=25.0), PeakFilter(cutoff_hz=400.0, gain_db=-1.5, q=1.2))
    assert repr(list(chain)) == (
        "[HighpassFilter(cutoff_hz=25.0), PeakFilter(cutoff_hz=400.0, gain_db=-1.5, q=1.2)]"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("default: [", "invalid"),
        (_ROLES_YAML.replace("highpass", "flanger"), "invalid"),
        (_ROLES_YAML.replace("cutoff_hz: 40.0", "cutoff_hz: -4.0"), "invalid"),
        (_ROLES_YAML.replace("    texture:", "    textures:"), "invalid"),
        ("\n".join(line for line in _ROLES_YAML.splitlines() if "texture" not in line), "lacks"),
        (_ROLES_YAML + "genres: {jazz: {bus: {ratio: 0.5}}}\n", "invalid"),
    ],
)
def test_a_bad_mix_file_is_a_config_error_that_says_why(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_mix(text)


def test_a_genre_production_changes_only_what_it_names() -> None:
    text = _ROLES_YAML + (
        "genres:\n  jazz:\n    reverb: {decay_s: 1.2}\n    drum_kit_program: 32\n"
        "    roles: {drums: {reverb_send: 0.2, chain: [{type: lowpass, cutoff_hz: 9000.0}]}}\n"
    )
    default, genres = parse_mix(text)
    jazz = genres["jazz"]
    assert jazz.reverb.decay_s == 1.2 and jazz.reverb.room_size == default.reverb.room_size
    assert jazz.roles["drums"].reverb_send == 0.2
    assert jazz.roles["drums"].chain == (LowpassFilter(cutoff_hz=9000.0),)
    assert jazz.roles["drums"].pan == default.roles["drums"].pan
    assert jazz.roles["bass"] == default.roles["bass"] and jazz.bus == default.bus
    assert jazz.drum_kit_program == 32 and default.drum_kit_program is None


def test_every_genre_in_the_mix_file_is_a_known_genre() -> None:
    kb = load_knowledge()
    assert production_genres() <= set(kb.genres)
    for genre in production_genres():
        assert production_for([genre]) != default_production()
    assert production_for(["no_such_genre"]) == default_production()


def test_a_stem_with_its_own_chain_is_mixed_through_it(
    song: tuple[list[StemInput], np.ndarray],
) -> None:
    stems, _ = song
    dark = [
        StemInput(s.name, s.role, s.audio, s.pan, s.gain_db, s.reverb_send,
                  chain=(LowpassFilter(cutoff_hz=500.0),))
        for s in stems
    ]  # fmt: skip
    plain = mix(stems, sample_rate=SR, energy_envelope=None)
    darker = mix(dark, sample_rate=SR, energy_envelope=None)

    def brightness(a: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(a.mean(axis=0)))
        freqs = np.fft.rfftfreq(a.shape[1], 1 / SR)
        return float(np.sum(spectrum * freqs) / np.sum(spectrum))

    assert brightness(darker.stems["lead"]) < 0.5 * brightness(plain.stems["lead"])
