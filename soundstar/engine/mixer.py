"""The Ultimate Mixer (foundation version): stems in, a mastered stereo mix out.

Per stem: its chain (EQ, compression; data/mix.yaml by role and genre), gain, a gentle gain
curve that follows the plan's energy, ducking under the kick when asked, panning, and a
send to one shared reverb. Then the bus: DC
removed, glue compression, loudness normalised to the target (BS.1770) and a true-peak
limiter at the ceiling, with up to three more passes while the limiter costs over 0.2 LU.
`mix` takes stems as arrays; the work is `blockmix.mix_spooled`'s, a block at a time on
stems held on disk, the one mixer a render uses. The fixed gains the master applied come
out (`MasterGains`) and can be given back, so a part of a piece rendered alone is mastered
as it was in the whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from soundstar.engine.blockmix import (
    EnergyCurve,
    SpooledStem,
    chain_spool,
    mix_spooled,
)
from soundstar.engine.effects import duck_knots
from soundstar.engine.master import MasterGains
from soundstar.engine.production import (
    Chain,
    Production,
    default_production,
    run_chain,
)
from soundstar.engine.spool import spool_of
from soundstar.errors import ParameterError

__all__ = ["ROLES", "MasterGains", "MixResult", "StemInput", "equalise", "mix"]

ROLES = ("lead", "chords", "pad", "bass", "drums", "percussion", "arp", "texture")
_RELEASED = np.zeros(0, dtype=np.float32)
_RELEASED.setflags(write=False)


@dataclass
class StemInput:
    """One stem for the mixer; `audio` is mono (n,) or stereo (2, n)."""

    name: str
    role: str
    audio: np.ndarray
    pan: float = 0.0
    gain_db: float = 0.0
    reverb_send: float = 0.0
    chain: Chain | None = None  # None: the default production's chain for the role
    # audio already through `equalise` for its role (float32): the mixer then owns it,
    # scales it in place instead of filtering a copy, and lets it go (leaves `audio` empty)
    equalised: bool = False


@dataclass
class MixResult:
    audio: np.ndarray  # (2, n) float32, mastered
    # (2, n) each, as in the mix with the master's gain (glue, loudness, limiter) applied:
    # they add up to the master, and a stem exported alone does not clip.
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    lufs: float = float("-inf")
    true_peak_dbtp: float = float("-inf")
    master_gains: MasterGains = field(default_factory=MasterGains)  # what the master applied


def _check_stems(stems: Sequence[StemInput]) -> int:
    if not stems:
        raise ParameterError("the mixer needs at least one stem")
    lengths: set[int] = set()
    for stem in stems:
        if stem.role not in ROLES:
            raise ParameterError(f"stem {stem.name!r} has unknown role {stem.role!r}", field="role")
        if not -1.0 <= stem.pan <= 1.0 or not 0.0 <= stem.reverb_send <= 1.0:
            raise ParameterError(f"stem {stem.name!r}: pan must be in [-1, 1], send in [0, 1]")
        if not math.isfinite(stem.gain_db) or stem.gain_db > 24.0:
            raise ParameterError(f"stem {stem.name!r}: gain_db must be finite and <= 24")
        audio = np.asarray(stem.audio)
        if audio.ndim not in (1, 2) or (audio.ndim == 2 and audio.shape[0] != 2):
            raise ParameterError(f"stem {stem.name!r} must be mono (n,) or stereo (2, n)")
        if audio.size and not math.isfinite(float(np.sum(audio, dtype=np.float64))):
            raise ParameterError(f"stem {stem.name!r} holds NaN or infinite samples")
        lengths.add(int(audio.shape[-1]))
    if len(lengths) != 1:
        raise ParameterError(f"stems differ in length: {sorted(lengths)}")
    if len({s.name for s in stems}) != len(stems):
        raise ParameterError("stem names must be unique")
    return lengths.pop()


def equalise(
    audio: np.ndarray, *, role: str, sample_rate: int, chain: Chain | None = None
) -> np.ndarray:
    """A stem's audio (mono or stereo) through `chain`, else the default production's chain
    for its role, as a new float32 array."""
    if role not in ROLES:
        raise ParameterError(f"unknown role {role!r}", field="role")
    if chain is None:
        chain = default_production().roles[role].chain  # type: ignore[index]
    return run_chain(audio, chain, sample_rate=sample_rate)


def mix(
    stems: Sequence[StemInput],
    *,
    sample_rate: int,
    energy_envelope: np.ndarray | None,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    sidechain: bool = False,
    sidechain_onsets_s: np.ndarray | None = None,
    production: Production | None = None,
    master_gains: MasterGains | None = None,
) -> MixResult:
    """Mix and master `stems` to `target_lufs` integrated with true peak <= `ceiling_dbtp`,
    with the reverb, ducking, bus and section dynamics of `production` (default: the
    default production); each stem's own channel settings come with it. The ducking
    follows the onsets given, else the drum stem's level. Given `master_gains` (what a
    whole piece's master applied), those gains are applied instead of measured."""
    if sample_rate <= 0:
        raise ParameterError("sample_rate must be positive", field="sample_rate")
    if not -40.0 <= target_lufs <= 0.0 or not -20.0 <= ceiling_dbtp <= 0.0:
        raise ParameterError("target_lufs must be in [-40, 0] and ceiling_dbtp in [-20, 0]")
    n = _check_stems(stems)
    production = production or default_production()
    energy = _energy_curve(energy_envelope, n, sample_rate, production.energy_range_db)
    duck = None
    if sidechain:
        onsets = sidechain_onsets_s
        drum = next((s for s in stems if s.role == "drums"), None)
        given = onsets is not None and np.asarray(onsets).size > 0
        if given or drum is not None:
            duck = duck_knots(
                n_samples=n, sample_rate=sample_rate, depth_db=production.sidechain.depth_db,
                release_ms=production.sidechain.release_ms,
                onsets_s=onsets if given else None,
                key_signal=None if given or drum is None else np.asarray(drum.audio),
            )  # fmt: skip
    spooled = []
    for stem in stems:
        audio = spool_of(np.asarray(stem.audio, dtype=np.float32))
        if not stem.equalised:
            chain = stem.chain
            if chain is None:
                chain = default_production().roles[stem.role].chain  # type: ignore[index]
            audio = chain_spool(audio, chain, sample_rate=sample_rate)
        else:  # the mixer owns it: let it go
            stem.audio = _RELEASED
        spooled.append(
            SpooledStem(
                name=stem.name, role=stem.role, audio=audio, pan=stem.pan, gain_db=stem.gain_db,
                reverb_send=stem.reverb_send,
                ducked=production.roles[stem.role].ducked,  # type: ignore[index]
            )
        )  # fmt: skip
    mixed = mix_spooled(
        spooled, sample_rate=sample_rate, n_samples=n, energy=energy, duck=duck,
        production=production, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
        fixed=master_gains,
    )  # fmt: skip
    return MixResult(
        audio=np.array(mixed.mastered.audio.array()),
        stems={name: stem.array() for name, stem in mixed.stems.items()},
        lufs=mixed.mastered.lufs,
        true_peak_dbtp=mixed.mastered.true_peak_dbtp,
        master_gains=mixed.mastered.gains,
    )


def _energy_curve(
    envelope: np.ndarray | None, n: int, sample_rate: int, range_db: float
) -> EnergyCurve | None:
    """A per-sample 0-1 energy envelope as the mixer's energy curve (a knot per sample)."""
    if envelope is None:
        return None
    env = np.asarray(envelope, dtype=np.float32)
    if env.shape != (n,):
        raise ParameterError(f"energy_envelope must have shape ({n},), got {env.shape}")
    if not np.all(np.isfinite(env)):
        raise ParameterError("energy_envelope holds NaN or infinite values")
    return EnergyCurve(np.arange(n) / sample_rate, env.astype(np.float64), range_db)
