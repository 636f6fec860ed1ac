"""Bars → mastered stereo blocks, one bar at a time, for a piece with no known end.

Each bar's notes are synthesized with their whole ring (release, filter and reverb tails)
and added over what earlier bars left ringing (overlap-add): what a bar's notes leave past
its end waits in a carried buffer for the bars after it. Every stage before the master is
linear, so rendering bar by bar sounds as rendering the notes together would. The master
gain is measured on the opening (the first seconds, as at full energy), ramped as the
measure grows, and then held (a live piece has no whole to measure); a limiter with
carried state holds the peaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from soundstar.audio.loudness import block_energies, gate_blocks, weighted_power
from soundstar.engine.ddsp import render_notes
from soundstar.engine.drums import render_drum_hits
from soundstar.engine.effects import pan_mono, reverb
from soundstar.engine.production import Compressor, Production, run_chain
from soundstar.engine.stream_limiter import StreamingLimiter
from soundstar.engine.timbres import load_timbre
from soundstar.errors import ParameterError

_DRUM_RING_S = 1.5  # the longest one-shot of the kits (crash, open hat) rings this long
_FILTER_RING_S = 0.05  # what the channel filters add after the last sample
_MAX_MASTER_DB = 30.0


@dataclass(frozen=True)
class BarPart:
    """One part's notes in one bar; onsets in seconds from the bar's start.

    `sound` names the DDSP timbre of a pitched part, or the kit of a drum part, whose
    `voices` (one per note) then say which drum each note strikes. `glide_semitones` and
    `glide_s` (per note, or None when none glides) are the notes' glides, as
    `ddsp.render_notes` takes them.
    """

    name: str
    role: str
    is_drum: bool
    sound: str
    pitch: np.ndarray
    onset_s: np.ndarray
    duration_s: np.ndarray
    velocity: np.ndarray  # in [0, 1]
    voices: tuple[str, ...] = ()
    glide_semitones: np.ndarray | None = None
    glide_s: np.ndarray | None = None


@dataclass(frozen=True)
class Bar:
    """What sounds from one bar: its length, its energy (0-1) and the parts that play."""

    n_samples: int
    energy: float
    key_pc: int
    parts: tuple[BarPart, ...]


class BarRenderer:
    """Renders bars in order into mastered (2, n) float32 blocks, state carried between."""

    def __init__(
        self,
        *,
        sample_rate: int,
        target_lufs: float = -14.0,
        ceiling_dbtp: float = -1.0,
        calibration_s: float = 8.0,
    ) -> None:
        if sample_rate <= 0:
            raise ParameterError("sample_rate must be positive", field="sample_rate")
        if not -40.0 <= target_lufs <= 0.0:
            raise ParameterError("target_lufs must be in [-40, 0]", field="target_lufs")
        self.sample_rate = sample_rate
        self.target_lufs = target_lufs
        self.master_gain_db: float | None = None
        self._calibration_n = round(calibration_s * sample_rate)
        self._heard: list[np.ndarray] = []  # the opening, as at full energy, until calibrated
        self._heard_n = 0
        self._limiter = StreamingLimiter(sample_rate=sample_rate, ceiling_dbtp=ceiling_dbtp)
        self._ringing = np.zeros((2, 0), dtype=np.float32)

    def render(self, bar: Bar, *, production: Production, rng: np.random.Generator) -> np.ndarray:
        """The next bar played with `production`'s channels and room, mastered:
        (2, bar.n_samples) float32."""
        if bar.n_samples <= 0:
            raise ParameterError("a bar must last at least one sample")
        energy_db = production.energy_range_db * (min(max(bar.energy, 0.0), 1.0) - 1.0)
        bus, send = self._parts(bar, production, energy_db, rng)
        if send is not None:
            room = production.reverb
            ring = round(min(1.2 * room.decay_s + 0.1, 8.0) * self.sample_rate)
            padded = np.concatenate([send, np.zeros(ring, np.float32)])
            wet = reverb(padded, sample_rate=self.sample_rate, wet=1.0, **room.model_dump())
            bus = _add(bus, wet)
        self._ringing = _add(self._ringing, bus)
        if self._ringing.shape[1] < bar.n_samples:
            self._ringing = _add(self._ringing, np.zeros((2, bar.n_samples), np.float32))
        head = self._ringing[:, : bar.n_samples]
        self._ringing = self._ringing[:, bar.n_samples :].copy()
        before = self.master_gain_db
        if self._heard_n < self._calibration_n:
            self.master_gain_db = self._master_db(head, energy_db)
        start_db = before if before is not None else self.master_gain_db
        gain_db = np.linspace(start_db or 0.0, self.master_gain_db or 0.0, head.shape[1])
        gain = (10.0 ** (gain_db / 20.0)).astype(np.float32)  # a ramp: no step in level
        return self._limiter.process(head * gain[None, :])

    def _parts(
        self, bar: Bar, production: Production, energy_db: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Every part of the bar through its channel, summed: (bus (2, n), reverb send)."""
        sr = self.sample_rate
        bus = np.zeros((2, bar.n_samples), np.float32)
        send: np.ndarray | None = None
        for part in bar.parts:
            if part.onset_s.size == 0:
                continue
            channel = production.roles[part.role]  # type: ignore[index]
            if part.is_drum:
                ring = float(part.onset_s.max()) + _DRUM_RING_S
                n = max(bar.n_samples, math.ceil((ring + _FILTER_RING_S) * sr))
                audio = render_drum_hits(
                    part.onset_s, part.voices, part.velocity, kit=part.sound, sample_rate=sr,
                    n_samples=n, rng=rng, key_pc=bar.key_pc,
                )  # fmt: skip
            else:
                preset = load_timbre(part.sound)
                ring = float((part.onset_s + part.duration_s).max()) + preset.release_s
                n = max(bar.n_samples, math.ceil((ring + 0.03 + _FILTER_RING_S) * sr))
                audio = render_notes(
                    part.pitch, part.onset_s, part.duration_s, part.velocity, preset=preset,
                    sample_rate=sr, n_samples=n, rng=rng, glide_semitones=part.glide_semitones,
                    glide_s=part.glide_s,
                )  # fmt: skip
            filters = [p for p in channel.chain if not isinstance(p, Compressor)]
            audio = run_chain(audio, filters, sample_rate=sr)
            audio *= np.float32(10.0 ** ((channel.gain_db + energy_db) / 20.0))
            if channel.reverb_send > 0:
                send = _add_mono(send, np.float32(channel.reverb_send) * audio)
            bus = _add(bus, pan_mono(audio, pan=channel.pan))
        return bus, send

    def _master_db(self, head: np.ndarray, energy_db: float) -> float | None:
        """The gain that brings the opening heard so far (the first `calibration_s`, each
        block as at full energy) to the target; None while too short or quiet to measure."""
        self._heard.append(head * np.float32(10.0 ** (-energy_db / 20.0)))
        self._heard_n += head.shape[1]
        opening = np.concatenate(self._heard, axis=1)
        if self._heard_n >= self._calibration_n:
            self._heard = []  # calibrated: the gain holds from here on
        power = weighted_power(opening, sample_rate=self.sample_rate)
        lufs = gate_blocks(block_energies(power, sample_rate=self.sample_rate))
        if not math.isfinite(lufs):
            return self.master_gain_db
        gain = self.target_lufs - lufs
        return min(max(gain, -_MAX_MASTER_DB), _MAX_MASTER_DB)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b for (2, n) arrays of different lengths, the shorter zero-extended."""
    if a.shape[1] < b.shape[1]:
        a, b = b, a
    out = a.copy()
    out[:, : b.shape[1]] += b
    return out


def _add_mono(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    if a is None:
        return b.astype(np.float32, copy=True)
    if a.size < b.size:
        a, b = b, a
    out = a.astype(np.float32, copy=True)
    out[: b.size] += b
    return out
