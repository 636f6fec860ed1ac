"""Rendering in blocks: blocks of any size sound as the piece rendered whole, the master
from disk equals the in-memory master, and block edges leave no mark."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstar.audio.loudness import integrated_loudness, true_peak_dbtp
from soundstar.config import EngineConfig
from soundstar.engine.blockmix import chain_spool, reverb_spool
from soundstar.engine.blocks import TrackBlocks, block_edges
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import render_drum_hits
from soundstar.engine.effects import _knots_to_samples, knots_between, reverb
from soundstar.engine.master import MasterGains, master
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.production import (
    Compressor,
    HighpassFilter,
    PeakFilter,
    ReverbRoom,
    default_production,
    run_chain,
)
from soundstar.engine.render import RenderResult, render_score
from soundstar.engine.sampler import find_soundfont
from soundstar.engine.spool import SHARED_BUDGET, Spool, spool_of
from soundstar.engine.timbres import load_timbre
from soundstar.models import Note, Role, Score, ScoreSection, Track

SR = 22050
HAVE_SF2 = find_soundfont(None) is not None and importlib.util.find_spec("tinysoundfont")


def _score(bars: int = 24, *, glides: bool = False) -> Score:
    """`bars` bars at 126 BPM in two sections of different energy, ducked under the kick:
    held pad chords (their tails cross block edges), a bass line (with `glides`, every
    other note slides in from the one before), drums with open hats."""
    beats = bars * 4
    pad = [
        Note(pitch=p, start_beat=float(b), duration_beats=3.9, velocity=70)
        for b in range(0, beats, 4)
        for p in (57, 60, 64)
    ]
    bass = [
        Note(pitch=33 + (b % 3) * 2, start_beat=b * 1.0, duration_beats=0.7, velocity=95)
        for b in range(beats)
    ]
    if glides:
        bass = [
            n.model_copy(update={"glide_from": bass[i - 1].pitch + 12, "glide_beats": 0.5})
            if i % 2
            else n
            for i, n in enumerate(bass)
        ]
    drums = [
        Note(pitch=36 if b % 2 == 0 else 38, start_beat=float(b), duration_beats=0.25, velocity=100)
        for b in range(beats)
    ] + [
        Note(pitch=46 if b % 4 == 3 else 42, start_beat=b * 0.5, duration_beats=0.1, velocity=75)
        for b in range(beats * 2)
    ]
    half = bars // 2
    return Score(
        tempo_bpm=126.0,
        time_signature="4/4",
        key="A minor",
        total_beats=float(beats),
        sections=[
            ScoreSection(name="verse", start_bar=0, end_bar=half, energy_level=0.4),
            ScoreSection(name="drop", start_bar=half, end_bar=bars, energy_level=0.9),
        ],
        chords=[],
        sidechain=True,
        tracks=[
            Track(name="Pad", instrument="synth_pad", role=Role.PAD, program=89, notes=pad),
            Track(name="Bass", instrument="synth_bass", role=Role.BASS, program=38, notes=bass),
            Track(
                name="Drums", instrument="acoustic_drums", role=Role.DRUMS, program=0,
                is_drum=True, notes=drums,
            ),
        ],
    )  # fmt: skip


def _render(
    bars_per_block: int | None, options: EngineOptions | None = None, *, glides: bool = False
) -> RenderResult:
    return render_score(
        _score(glides=glides), sample_rate=SR, seed=5, options=options,
        bars_per_block=bars_per_block,
    )  # fmt: skip


def _per_second_error_db(a: np.ndarray, b: np.ndarray) -> float:
    """The worst second's RMS of a - b relative to that second's RMS of b (dB)."""
    worst = -np.inf
    for start in range(0, a.shape[-1] - SR + 1, SR):
        ref = float(np.sqrt(np.mean(b[:, start : start + SR] ** 2)))
        err = float(np.sqrt(np.mean((a[:, start : start + SR] - b[:, start : start + SR]) ** 2)))
        if ref > 1e-4:
            worst = max(worst, 20 * np.log10(max(err, 1e-12) / ref))
    return worst


@pytest.mark.parametrize("glides", [False, True])
def test_blocks_of_one_bar_sound_as_the_piece_in_one_block(glides: bool) -> None:
    # DDSP synthesis is exact across blocks: what differs is float rounding
    whole, bars = _render(64, glides=glides), _render(1, glides=glides)
    if glides:
        plain = _render(64)
        assert _per_second_error_db(whole.stems["bass"], plain.stems["bass"]) > -20.0
    assert abs(whole.lufs - bars.lufs) < 0.1
    assert abs(whole.true_peak_dbtp - bars.true_peak_dbtp) < 0.1
    assert _per_second_error_db(bars.audio, whole.audio) < -60.0
    assert list(whole.stems) == list(bars.stems)
    for name, stem in whole.stems.items():
        assert _per_second_error_db(bars.stems[name], stem) < -60.0


@pytest.mark.skipif(not HAVE_SF2, reason="needs tinysoundfont and a General MIDI SoundFont")
def test_sampled_tracks_in_blocks_sound_as_in_one_block() -> None:
    # the SoundFont synth restarts at each block (its envelopes and modulators step on a
    # grid from the call's start, a note has 3 s of tail room): the same level and peaks,
    # waveforms that differ by about 1/10 of the signal in the worst second
    options = engine_options_from_settings(EngineConfig())
    whole, bars = _render(64, options), _render(2, options)
    assert "sampler" in whole.stages_run
    assert abs(whole.lufs - bars.lufs) < 0.1
    assert abs(whole.true_peak_dbtp - bars.true_peak_dbtp) < 0.1
    assert _per_second_error_db(bars.audio, whole.audio) < -20.0


def test_reported_loudness_and_true_peak_are_the_masters() -> None:
    result = _render(None)
    assert abs(integrated_loudness(result.audio, sample_rate=SR) - result.lufs) < 0.1
    assert abs(true_peak_dbtp(result.audio, sample_rate=SR) - result.true_peak_dbtp) < 0.05
    assert result.true_peak_dbtp <= -1.0 + 1e-3


def test_stems_add_up_to_the_master() -> None:
    result = _render(None)
    total = sum(result.stems.values())
    assert isinstance(total, np.ndarray)
    residual = result.audio - (total - total.mean(axis=1, keepdims=True))
    assert float(np.max(np.abs(residual))) < 2e-3


def test_same_seed_renders_identical_bytes() -> None:
    first, second = _render(None), _render(None)
    assert first.audio.tobytes() == second.audio.tobytes()


def test_a_render_held_in_memory_equals_one_spooled_to_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = _render(None)
    monkeypatch.setattr(SHARED_BUDGET, "limit_bytes", 0)
    on_disk = _render(None)
    assert isinstance(held.master_audio, Spool) and isinstance(on_disk.master_audio, Spool)
    assert held.master_audio.in_memory and not on_disk.master_audio.in_memory
    assert held.audio.tobytes() == on_disk.audio.tobytes()
    assert held.master_gains == on_disk.master_gains
    for name, stem in held.stems.items():
        assert stem.tobytes() == on_disk.stems[name].tobytes()


def test_block_edges_leave_no_click() -> None:
    result = _render(1)
    audio = result.audio
    edges = block_edges(
        n_samples=audio.shape[1], bar_seconds=4 * 60.0 / 126.0, sample_rate=SR, bars_per_block=1
    )[1:-1]
    steps = np.abs(np.diff(audio, axis=1)).max(axis=0)
    at_edges = max(float(steps[e - 2 : e + 2].max()) for e in edges)
    assert at_edges <= float(steps.max())
    assert at_edges <= float(np.percentile(steps, 99.9))


@pytest.mark.parametrize(("timbre", "glides"), [("piano", False), ("piano", True), ("flute", True)])
def test_a_track_in_blocks_is_the_track_rendered_whole(timbre: str, glides: bool) -> None:
    # with glides: half the notes slide in from up to an octave away (the flute's vibrato
    # bends them as well)
    preset = load_timbre(timbre)
    rng = np.random.default_rng(0)
    onset = np.sort(rng.uniform(0.0, 9.0, 60))
    duration = rng.uniform(0.05, 2.5, 60)
    pitch = rng.integers(48, 84, 60).astype(float)
    velocity = rng.uniform(0.3, 1.0, 60)
    semitones = np.where(rng.random(60) < 0.5, rng.uniform(-12.0, 12.0, 60), 0.0)
    seconds = rng.uniform(0.0, 1.0, 60) * duration
    glide = {"glide_semitones": semitones, "glide_s": seconds} if glides else {}
    n = 10 * SR
    whole = render_notes(
        pitch, onset, duration, velocity, preset=preset, sample_rate=SR, n_samples=n,
        rng=np.random.default_rng(1), **glide,
    )  # fmt: skip
    shared = np.random.default_rng(1)

    def play(picked: np.ndarray, first: int, length: int) -> np.ndarray:
        picked_glide = {k: v[picked] for k, v in glide.items()}
        return render_notes(
            pitch[picked], onset[picked], duration[picked], velocity[picked],
            preset=preset, sample_rate=SR, n_samples=length, rng=shared, first_sample=first,
            **picked_glide,
        )  # fmt: skip

    release = int(preset.release_s * SR) + 1 + int(0.012 * SR)
    voice = TrackBlocks(
        onset, onset + duration, play=play, tail_samples=release, n_samples=n, sample_rate=SR
    )
    edges = [0, 3000, 3001, 20000, 64000, 150000, n]
    blocks = np.concatenate([voice.render_block(a, b) for a, b in itertools.pairwise(edges)])
    np.testing.assert_allclose(blocks, whole, atol=1e-5)


def test_drum_hits_in_blocks_choke_and_vary_as_rendered_whole() -> None:
    onset = np.arange(40) * 0.25
    voices = ["open_hat" if i % 4 == 3 else "closed_hat" if i % 2 else "kick" for i in range(40)]
    velocity = np.full(40, 0.8)
    n = 11 * SR
    whole = render_drum_hits(
        onset, voices, velocity, kit="acoustic", sample_rate=SR, n_samples=n,
        rng=np.random.default_rng(2),
    )  # fmt: skip
    from soundstar.engine.render import _drum_player

    pitch = np.array([{"kick": 36, "closed_hat": 42, "open_hat": 46}[v] for v in voices], float)
    play = _drum_player(
        (pitch, onset, np.full(40, 0.1), velocity), "acoustic", SR, np.random.default_rng(2), 0
    )
    whole_keyed = render_drum_hits(
        onset, voices, velocity, kit="acoustic", sample_rate=SR, n_samples=n,
        rng=np.random.default_rng(2), key_pc=0,
    )  # fmt: skip
    voice = TrackBlocks(
        onset, onset + 0.1, play=play, tail_samples=3 * SR, n_samples=n, sample_rate=SR
    )
    edges = block_edges(n_samples=n, bar_seconds=0.9, sample_rate=SR, bars_per_block=1)
    blocks = np.concatenate([voice.render_block(a, b) for a, b in itertools.pairwise(edges)])
    np.testing.assert_allclose(blocks, whole_keyed, atol=1e-5)
    assert whole.shape == blocks.shape


@pytest.mark.parametrize("target", [-20.0, -14.0, -9.0])
def test_master_from_disk_reaches_the_target_under_the_ceiling(target: float) -> None:
    rng = np.random.default_rng(4)
    n = SR * 12
    t = np.arange(n) / SR
    x = 0.2 * np.sin(2 * np.pi * 110 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    x = (x + 0.05 * rng.standard_normal(n)).astype(np.float32)
    x[:: SR // 3] += 0.9  # peaks the limiter must catch
    bus = np.stack([x, np.roll(x, 50) * 0.8]) + np.float32(0.01)
    new = master(
        spool_of(bus), sample_rate=SR, target_lufs=target, ceiling_dbtp=-1.0,
        settings=default_production().bus,
    )  # fmt: skip
    audio = new.audio.array()
    measured = integrated_loudness(audio, sample_rate=SR)
    assert abs(new.lufs - measured) < 0.05
    assert abs(new.true_peak_dbtp - true_peak_dbtp(audio, sample_rate=SR)) < 0.01
    assert new.true_peak_dbtp <= -1.0 + 1e-3
    assert abs(float(audio.mean())) < 1e-4  # the DC offset is removed
    if target <= -14.0:  # -9 LUFS is past what three pushes into the limiter reach here
        assert abs(measured - target) < 0.1


def test_fixed_master_gains_skip_normalisation_and_are_reported() -> None:
    x = (0.1 * np.sin(2 * np.pi * 220 * np.arange(SR * 3) / SR)).astype(np.float32)
    fixed = MasterGains(pre_gain_db=-6.0, makeup_db=1.0, push_db=0.5, dc_offset=(0.0, 0.0))
    quiet = master(
        spool_of(np.stack([x, x])), sample_rate=SR, target_lufs=-14.0, ceiling_dbtp=-1.0,
        settings=default_production().bus, fixed=fixed,
    )  # fmt: skip
    assert quiet.gains == fixed
    assert quiet.gains.gain_db == pytest.approx(-4.5)
    assert quiet.lufs < -14.0 - 3.0


def test_chain_over_a_spool_is_the_chain_over_the_array() -> None:
    rng = np.random.default_rng(6)
    audio = (rng.standard_normal(SR * 5) * np.linspace(0.01, 0.5, SR * 5)).astype(np.float32)
    chain = (
        HighpassFilter(cutoff_hz=80.0),
        Compressor(threshold_below_peak_db=12.0, ratio=4.0, attack_ms=5.0, release_ms=80.0),
        PeakFilter(cutoff_hz=1000.0, gain_db=3.0, q=1.0),
    )
    whole = run_chain(audio, chain, sample_rate=SR)
    spooled = chain_spool(spool_of(audio), chain, sample_rate=SR).array()[0]
    np.testing.assert_allclose(spooled, whole, atol=1e-5)


def test_reverb_in_blocks_is_the_reverb_of_the_whole() -> None:
    rng = np.random.default_rng(7)
    n = SR * 4 + 123
    send = np.zeros(n, dtype=np.float32)
    send[rng.integers(0, n, 30)] = 1.0
    room = ReverbRoom(room_size=0.6, decay_s=1.8, damping=0.5)
    whole = reverb(send, sample_rate=SR, wet=1.0, **room.model_dump())
    blocks = reverb_spool(spool_of(send), sample_rate=SR, room=room).array()
    assert blocks.shape == whole.shape
    np.testing.assert_allclose(blocks, whole, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    knots=st.lists(st.floats(0.0, 2.0), min_size=2, max_size=40),
    block=st.sampled_from([4, 16, 32]),
    cut=st.data(),
)
def test_knots_between_is_a_slice_of_the_whole_curve(
    knots: list[float], block: int, cut: st.DataObject
) -> None:
    k = np.array(knots)
    n = (k.size - 1) * block
    start = cut.draw(st.integers(0, n - 1))
    stop = cut.draw(st.integers(start + 1, n))
    whole = _knots_to_samples(k, block, n)
    np.testing.assert_array_equal(knots_between(k, block, start, stop), whole[start:stop])


@settings(max_examples=25, deadline=None)
@given(
    channels=st.sampled_from([1, 2]),
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=6),
)
def test_a_spool_reads_back_what_was_appended(channels: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    parts = [rng.standard_normal((channels, s)).astype(np.float32) for s in sizes]
    spool = Spool(channels)
    for part in parts:
        spool.append(part)
    whole = np.concatenate(parts, axis=1)
    np.testing.assert_array_equal(spool.array(), whole)
    np.testing.assert_array_equal(np.concatenate([x for _, x in spool.blocks(777)], axis=1), whole)
    spool.close()
