"""Drum kits: every voice of every kit sounds, decays, and hats choke."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.engine.drums import DRUM_KITS, DRUM_VOICES, GM_DRUM_NOTES, render_drum_hits
from soundstar.errors import ParameterError

SR = 22050


def _hit(voice: str, kit: str, velocity: float = 1.0, n_s: float = 3.5) -> np.ndarray:
    return render_drum_hits(
        np.array([0.0]), [voice], np.array([velocity]), kit=kit, sample_rate=SR,
        n_samples=int(n_s * SR), rng=np.random.default_rng(0),
    )  # fmt: skip


def test_gm_note_map_names_every_voice() -> None:
    assert set(GM_DRUM_NOTES) == set(DRUM_VOICES)
    assert (
        GM_DRUM_NOTES["kick"] == 36
        and GM_DRUM_NOTES["snare"] == 38
        and GM_DRUM_NOTES["triangle"] == 81
    )
    assert len(set(GM_DRUM_NOTES.values())) == len(GM_DRUM_NOTES)


@pytest.mark.parametrize("kit", DRUM_KITS)
def test_every_voice_is_finite_audible_and_decaying(kit: str) -> None:
    for voice in DRUM_VOICES:
        y = _hit(voice, kit)
        assert np.all(np.isfinite(y)), voice
        assert np.max(np.abs(y)) > 0.01, voice
        env = np.abs(y)
        peak_at = int(np.argmax(env))
        early = env[peak_at : peak_at + SR // 50].max()
        late = env[-SR // 4 :].max()
        assert late < 0.1 * early, voice


def test_kits_sound_different() -> None:
    a = _hit("kick", "acoustic")
    b = _hit("kick", "electronic_808")
    assert np.sum(np.abs(b) > 0.05) > 1.5 * np.sum(np.abs(a) > 0.05)  # the 808 boom is longer


def test_velocity_scales_level() -> None:
    loud = _hit("snare", "acoustic", 1.0)
    soft = _hit("snare", "acoustic", 0.3)
    assert np.max(np.abs(soft)) < 0.3 * np.max(np.abs(loud))


def test_open_hat_is_choked_by_the_next_closed_hat() -> None:
    def hits(onsets: list[float], voices: list[str], vel: list[float]) -> np.ndarray:
        return render_drum_hits(
            np.array(onsets), voices, np.array(vel), kit="acoustic", sample_rate=SR,
            n_samples=SR, rng=np.random.default_rng(0),
        )  # fmt: skip

    alone = hits([0.0], ["open_hat"], [1.0])
    choked = hits([0.0, 0.25], ["open_hat", "pedal_hat"], [1.0, 0.0])
    window = slice(int(0.42 * SR), int(0.8 * SR))  # after the pedal hat itself has ended
    assert np.max(np.abs(alone[window])) > 0.01
    assert not np.any(choked[window])


def test_same_seed_same_drums() -> None:
    on, voices, vel = (
        np.array([0.0, 0.5, 1.0]),
        ["kick", "snare", "closed_hat"],
        np.array([0.9, 0.8, 0.5]),
    )
    kw = {"kit": "lofi", "sample_rate": SR, "n_samples": 2 * SR}
    a = render_drum_hits(on, voices, vel, rng=np.random.default_rng(1), **kw)  # type: ignore[arg-type]
    b = render_drum_hits(on, voices, vel, rng=np.random.default_rng(1), **kw)  # type: ignore[arg-type]
    assert np.array_equal(a, b)


def test_unknown_voice_or_kit_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        _hit("gong", "acoustic")
    with pytest.raises(ParameterError):
        _hit("kick", "orchestral")


def test_hits_past_the_end_are_dropped() -> None:
    y = render_drum_hits(
        np.array([5.0]),
        ["kick"],
        np.array([1.0]),
        kit="acoustic",
        sample_rate=SR,
        n_samples=SR,
        rng=np.random.default_rng(0),
    )
    assert not np.any(y)
