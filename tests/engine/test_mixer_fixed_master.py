"""The master's gains come out of a mix and, given back, are applied as they were: the same
stems master to the same audio, and a part of a piece is not normalised on its own."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from soundstar.audio.loudness import integrated_loudness
from soundstar.engine.ddsp import render_notes
from soundstar.engine.mixer import MasterGains, StemInput, mix
from soundstar.engine.timbres import load_timbre

SR = 22050
N = SR * 6


def _stem(name: str, role: str, timbre: str, pitches: list[int], seed: int) -> StemInput:
    rng = np.random.default_rng(seed)
    onsets = np.arange(0.0, 5.5, 0.5)
    pitch = np.array([pitches[i % len(pitches)] for i in range(onsets.size)], dtype=float)
    audio = render_notes(
        pitch, onsets, np.full(onsets.size, 0.45), np.full(onsets.size, 0.8),
        preset=load_timbre(timbre), sample_rate=SR, n_samples=N, rng=rng,
    )  # fmt: skip
    return StemInput(name, role, audio, 0.0, -2.0, 0.2)


def _stems(scale: float = 1.0) -> list[StemInput]:
    stems = [
        _stem("bass", "bass", "bass_synth", [45, 52, 43], 1),
        _stem("lead", "lead", "synth_lead", [69, 72, 76], 2),
    ]
    return [dataclasses.replace(s, audio=s.audio * np.float32(scale)) for s in stems]


def _energy() -> np.ndarray:
    return np.interp(np.arange(N) / SR, [0, 3, 3.5, 6], [0.4, 0.4, 0.8, 0.8]).astype(np.float32)


def test_the_gains_given_back_master_the_same_stems_the_same() -> None:
    first = mix(_stems(), sample_rate=SR, energy_envelope=_energy(), target_lufs=-14.0)
    assert first.master_gains.pre_gain_db != 0.0
    assert first.master_gains.energy_peak == pytest.approx(0.8)
    again = mix(
        _stems(), sample_rate=SR, energy_envelope=_energy(), target_lufs=-14.0,
        master_gains=first.master_gains,
    )  # fmt: skip
    assert again.master_gains == first.master_gains
    np.testing.assert_allclose(again.audio, first.audio, atol=2e-6)


def test_quieter_material_with_given_gains_stays_quieter() -> None:
    first = mix(_stems(), sample_rate=SR, energy_envelope=_energy(), target_lufs=-14.0)
    quiet = mix(
        _stems(0.25), sample_rate=SR, energy_envelope=_energy(), target_lufs=-14.0,
        master_gains=first.master_gains,
    )  # fmt: skip
    renormalised = mix(_stems(0.25), sample_rate=SR, energy_envelope=_energy(), target_lufs=-14.0)
    loud = integrated_loudness(first.audio, sample_rate=SR)
    assert integrated_loudness(quiet.audio, sample_rate=SR) < loud - 6.0
    assert integrated_loudness(renormalised.audio, sample_rate=SR) == pytest.approx(loud, abs=0.5)


def test_the_section_dynamics_follow_the_given_energy_peak() -> None:
    """A part whose energy never reaches the piece's peak is not lifted to it."""
    low = np.full(N, 0.4, dtype=np.float32)
    whole = MasterGains(pre_gain_db=0.0, energy_peak=0.8)
    alone = MasterGains(pre_gain_db=0.0, energy_peak=0.4)
    under = mix(
        _stems(), sample_rate=SR, energy_envelope=low, target_lufs=-14.0, master_gains=whole
    )
    level = mix(
        _stems(), sample_rate=SR, energy_envelope=low, target_lufs=-14.0, master_gains=alone
    )
    assert (
        integrated_loudness(under.audio, sample_rate=SR)
        < integrated_loudness(level.audio, sample_rate=SR) - 1.0
    )
