"""The Ultimate Mixer (foundation version): stems in, a mastered stereo mix out.

Per stem: its chain (EQ, compression; data/mix.yaml by role and genre), gain, a gentle gain
curve that follows the plan's energy, ducking under the kick when asked, panning, and a
send to one shared reverb. Then the bus: DC
removed, glue compression, loudness normalised to the target (BS.1770) and a true-peak
limiter at the ceiling, with up to three more passes while the limiter costs over 0.2 LU.
The fixed gains the master applied come out (`MasterGains`) and can be given back, so a
part of a piece rendered alone is mastered as it was in the whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from soundstar.audio.loudness import (
    block_energies,
    gate_blocks,
    weighted_power,
)
from soundstar.engine.effects import (
    compressor_curve,
    duck_curve,
    limit_true_peak,
    pan_mono,
    reverb,
)
from soundstar.engine.production import (
    BusCompressor,
    Chain,
    Production,
    default_production,
    run_chain,
)
from soundstar.errors import ParameterError

ROLES = ("lead", "chords", "pad", "bass", "drums", "percussion", "arp", "texture")
_LIMIT_SLACK_LU = 0.2
_LIMIT_PASSES = 3
REVERB_STEM = "reverb_return"
_EQ_THREADS = 2
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


class MasterGains(BaseModel):
    """What the master applied beyond the signal-following glue and limiter: the loudness
    pre-gain, the make-up after the glue, the limiter push, the DC removed and the energy
    the section dynamics are relative to. Given back to `mix`, a part of a piece is
    mastered as it was in the whole, not normalised again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pre_gain_db: float = 0.0
    makeup_db: float = 0.0
    push_db: float = 0.0
    dc_offset: tuple[float, float] = (0.0, 0.0)
    energy_peak: float = Field(default=1.0, ge=0.0, le=1.0)

    @property
    def gain_db(self) -> float:
        """The master's fixed gain, in dB, before the glue's and the limiter's curves."""
        return self.pre_gain_db + self.makeup_db + self.push_db


@dataclass
class MixResult:
    audio: np.ndarray  # (2, n) float32, mastered
    # (2, n) each, as in the mix with the master's gain (glue, loudness, limiter) applied:
    # they add up to the master, and a stem exported alone does not clip.
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    lufs: float = float("-inf")
    true_peak_dbtp: float = float("-inf")
    master: MasterGains = field(default_factory=MasterGains)


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


def _energy_gain(
    envelope: np.ndarray | None, n: int, range_db: float, peak: float | None
) -> np.ndarray | None:
    """Per-sample gain of the section dynamics, relative to `peak` (None: the envelope's own)."""
    if envelope is None:
        return None
    env = np.asarray(envelope, dtype=np.float32)
    if env.shape != (n,):
        raise ParameterError(f"energy_envelope must have shape ({n},), got {env.shape}")
    if not np.all(np.isfinite(env)):
        raise ParameterError("energy_envelope holds NaN or infinite values")
    env = np.clip(env, 0.0, 1.0)
    top = float(env.max()) if peak is None else peak
    return np.asarray(10.0 ** (range_db * (env - top) / 20.0), dtype=np.float32)


def _place(stem: StemInput, audio: np.ndarray) -> np.ndarray:
    """Pan a mono stem, or balance a stereo one, to (2, n)."""
    if audio.ndim == 1:
        return pan_mono(audio, pan=stem.pan)
    theta = (stem.pan + 1.0) * math.pi / 4.0
    balance = np.array([[math.cos(theta)], [math.sin(theta)]], dtype=np.float32) * np.float32(
        math.sqrt(2.0)
    )
    return np.asarray(audio * balance, dtype=np.float32)


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


def _equalised(stems: Sequence[StemInput], sample_rate: int) -> Iterator[np.ndarray]:
    """Each stem through its role's EQ, in order, `_EQ_THREADS` at a time: `sosfilt` releases
    the GIL, and at most that many filtered stems are held before the caller takes them.
    Stems marked `equalised` come back as they are."""

    def one(stem: StemInput) -> np.ndarray:
        if stem.equalised:
            return np.asarray(stem.audio, dtype=np.float32)
        return equalise(stem.audio, role=stem.role, sample_rate=sample_rate, chain=stem.chain)

    if _EQ_THREADS < 2 or len(stems) < 2:
        yield from map(one, stems)
        return
    with ThreadPoolExecutor(max_workers=_EQ_THREADS) as pool:
        for start in range(0, len(stems), _EQ_THREADS):
            yield from list(pool.map(one, stems[start : start + _EQ_THREADS]))


def _loudness_with_gain(power: np.ndarray, gain: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness after multiplying the measured signal by a slowly varying gain."""
    weighted = power * gain
    weighted *= gain
    return gate_blocks(block_energies(weighted, sample_rate=sample_rate))


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
    master: MasterGains | None = None,
) -> MixResult:
    """Mix and master `stems` to `target_lufs` integrated with true peak <= `ceiling_dbtp`,
    with the reverb, ducking, bus and section dynamics of `production` (default: the
    default production); each stem's own channel settings come with it. Given `master`
    (what a whole piece's master applied), those gains are applied instead of measured."""
    if sample_rate <= 0:
        raise ParameterError("sample_rate must be positive", field="sample_rate")
    if not -40.0 <= target_lufs <= 0.0 or not -20.0 <= ceiling_dbtp <= 0.0:
        raise ParameterError("target_lufs must be in [-40, 0] and ceiling_dbtp in [-20, 0]")
    n = _check_stems(stems)
    production = production or default_production()
    energy = _energy_gain(
        energy_envelope, n, production.energy_range_db, master.energy_peak if master else None
    )
    energy_peak = (
        master.energy_peak
        if master is not None
        else float(np.clip(np.max(energy_envelope), 0.0, 1.0))
        if energy_envelope is not None
        else 1.0
    )
    duck = None
    if sidechain:
        onsets = sidechain_onsets_s
        drum = next((s for s in stems if s.role == "drums"), None)
        if onsets is not None and np.asarray(onsets).size:
            duck = duck_curve(
                n_samples=n,
                sample_rate=sample_rate,
                depth_db=production.sidechain.depth_db,
                release_ms=production.sidechain.release_ms,
                onsets_s=onsets,
            )
        elif drum is not None:
            duck = duck_curve(
                n_samples=n,
                sample_rate=sample_rate,
                depth_db=production.sidechain.depth_db,
                release_ms=production.sidechain.release_ms,
                key_signal=np.asarray(drum.audio),
            )
    ducked_energy = (
        energy * duck
        if energy is not None and duck is not None
        else duck
        if duck is not None
        else energy
    )

    bus = np.zeros((2, n), dtype=np.float32)
    send = np.zeros(n, dtype=np.float32)
    processed: dict[str, np.ndarray] = {}
    for stem, audio in zip(stems, _equalised(stems, sample_rate), strict=True):
        audio *= np.float32(10.0 ** (stem.gain_db / 20.0))
        ducked = production.roles[stem.role].ducked  # type: ignore[index]
        curve = ducked_energy if ducked else energy
        if curve is not None:
            audio *= curve
        if stem.reverb_send > 0:
            send += np.float32(stem.reverb_send) * (audio if audio.ndim == 1 else audio.mean(0))
        placed = _place(stem, audio)
        processed[stem.name] = placed
        bus += placed
        if stem.equalised:  # the mixer owns it: let it go now
            stem.audio = _RELEASED
        del audio
    del energy, duck, ducked_energy, curve  # the curves are done with: free them
    if any(stem.reverb_send > 0 for stem in stems) and np.any(send):
        wet = reverb(send, sample_rate=sample_rate, wet=1.0, **production.reverb.model_dump())
        del send
        name = REVERB_STEM
        while name in processed:
            name = "_" + name
        processed[name] = wet
        bus += wet
    dc = bus.mean(axis=1) if master is None else np.array(master.dc_offset, dtype=np.float32)
    bus -= dc[:, None]
    audio, lufs, peak_dbtp, gain, gains = _master(
        bus, sample_rate, target_lufs, ceiling_dbtp, production.bus, master
    )
    for placed in processed.values():
        placed *= gain
    applied = gains.model_copy(
        update={"dc_offset": (float(dc[0]), float(dc[1])), "energy_peak": energy_peak}
    )
    return MixResult(
        audio=audio, stems=processed, lufs=lufs, true_peak_dbtp=peak_dbtp, master=applied
    )


def _master(
    bus: np.ndarray,
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float,
    settings: BusCompressor,
    fixed: MasterGains | None = None,
) -> tuple[np.ndarray, float, float, np.ndarray, MasterGains]:
    """Glue compression, loudness normalisation and true-peak limiting of the stereo bus;
    returns the master, its loudness and true peak, the gain curve it applied and its
    fixed gains. Given `fixed`, its gains are applied and nothing is normalised."""

    def silent() -> tuple[np.ndarray, float, float, np.ndarray, MasterGains]:
        zeros = np.zeros(bus.shape[1], np.float32)
        return np.zeros_like(bus), -math.inf, -math.inf, zeros, fixed or MasterGains()

    if not np.any(bus):
        return silent()
    power = weighted_power(bus, sample_rate=sample_rate)
    if fixed is None:
        loudness = gate_blocks(block_energies(power, sample_rate=sample_rate))
        if not math.isfinite(loudness):
            return silent()
        pre_gain_db = target_lufs - loudness
    else:
        pre_gain_db = fixed.pre_gain_db
    pre_gain = np.float32(10.0 ** (pre_gain_db / 20.0))
    # The detector is level-linear, so compressing `bus * pre_gain` equals compressing `bus`
    # with the threshold moved by -pre_gain_db, without a second copy of the bus.
    glue = compressor_curve(
        bus,
        sample_rate=sample_rate,
        threshold_db=settings.threshold_db + (target_lufs + 14.0) - pre_gain_db,
        ratio=settings.ratio,
        attack_ms=settings.attack_ms,
        release_ms=settings.release_ms,
        knee_db=settings.knee_db,
    )
    glue *= pre_gain
    makeup_db = (
        target_lufs - _loudness_with_gain(power, glue, sample_rate)
        if fixed is None
        else fixed.makeup_db
    )
    glue *= np.float32(10.0 ** (makeup_db / 20.0))
    bus *= glue[None, :]  # the bus is ours (built in `mix`): drive it in place
    driven = bus
    push = np.float32(1.0 if fixed is None else 10.0 ** (fixed.push_db / 20.0))
    limited, peak, limiter_gain = limit_true_peak(
        driven * push if fixed is not None else driven,
        sample_rate=sample_rate,
        ceiling_dbtp=ceiling_dbtp,
    )
    total = glue * push if fixed is not None else glue
    if limiter_gain is not None:  # the limiter's gain curve is a new array: take it over
        limiter_gain *= total
        total = limiter_gain
    final_lufs = _loudness_with_gain(power, total, sample_rate)
    passes = _LIMIT_PASSES if fixed is None else 0  # a given push is applied as it is
    for _ in range(passes):  # peaky stems: the limiter eats part of each push
        if target_lufs - final_lufs <= _LIMIT_SLACK_LU:
            break
        push *= np.float32(10.0 ** ((target_lufs - final_lufs) / 20.0))
        limited, peak, limiter_gain = limit_true_peak(
            driven * push, sample_rate=sample_rate, ceiling_dbtp=ceiling_dbtp
        )
        total = glue * push if limiter_gain is None else glue * push * limiter_gain
        final_lufs = _loudness_with_gain(power, total, sample_rate)
    out = limited.astype(np.float32, copy=False)  # a new array from the limiter: ours
    np.clip(out, -1.0, 1.0, out=out)
    peak_db = 20.0 * math.log10(peak) if peak > 0 else float("-inf")
    gains = MasterGains(
        pre_gain_db=float(pre_gain_db),
        makeup_db=float(makeup_db),
        push_db=float(20.0 * math.log10(float(push))),
    )
    return out, final_lufs, peak_db, np.asarray(total, dtype=np.float32), gains
