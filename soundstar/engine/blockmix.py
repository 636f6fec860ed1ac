"""The mixer on stems held on disk, a block at a time (see `mixer` for what it does).

Each stem's chain runs as passes over its spool (filters carry their state from block to
block; a compressor first reads the stem for its peaks), the channels are summed into a bus
spool a block at a time, the shared reverb convolves its send in blocks (overlap-add, the
tail carried), and `master.master` masters the bus. Memory does not grow with length.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import signal

from soundstar.engine.effects import (
    CONTROL_BLOCK,
    EqBand,
    _ir_spectrum,
    _knots_to_samples,
    _reverb_ir,
    block_peaks,
    compressor_knots,
    eq_sos,
    knots_between,
    pan_mono,
)
from soundstar.engine.master import CHUNK, Mastered, MasterGains, master
from soundstar.engine.production import Chain, Compressor, Production, ReverbRoom
from soundstar.engine.spool import BlockAudio, Spool

REVERB_STEM = "reverb_return"
_REVERB_RATE_HZ = 11000
_REVERB_BLOCK = 1 << 15  # decimated samples convolved at a time


@dataclass
class SpooledStem:
    """One stem for `mix_spooled`: its audio (through its chain) on disk, and its channel."""

    name: str
    role: str
    audio: Spool
    pan: float = 0.0
    gain_db: float = 0.0
    reverb_send: float = 0.0
    ducked: bool = False


@dataclass(frozen=True)
class EnergyCurve:
    """The plan's section energies: values at times (s), linear between (see `_energy_envelope`);
    the gain is relative to `peak` (None: the curve's own highest energy)."""

    times_s: np.ndarray
    values: np.ndarray
    range_db: float
    peak: float | None = None

    def top(self, n_samples: int, sample_rate: int) -> float:
        """The energy the gain is relative to (0 dB there) in a piece of `n_samples`."""
        if self.peak is not None:
            return self.peak
        ends = np.clip(np.concatenate([[0.0], self.times_s]), 0.0, (n_samples - 1) / sample_rate)
        return float(np.clip(np.interp(ends, self.times_s, self.values), 0.0, 1.0).max())

    def gain(self, start: int, stop: int, n_samples: int, sample_rate: int) -> np.ndarray:
        """The per-sample gain for samples [start, stop) of a piece of `n_samples`."""
        top = self.top(n_samples, sample_rate)
        t = np.arange(start, stop) / sample_rate
        env = np.clip(np.interp(t, self.times_s, self.values).astype(np.float32), 0.0, 1.0)
        return np.asarray(10.0 ** (self.range_db * (env - top) / 20.0), dtype=np.float32)


def _place(stem: SpooledStem, audio: np.ndarray) -> np.ndarray:
    """Pan a mono stem, or balance a stereo one, to (2, n)."""
    if audio.ndim == 1:
        return pan_mono(audio, pan=stem.pan)
    theta = (stem.pan + 1.0) * math.pi / 4.0
    balance = np.array([[math.cos(theta)], [math.sin(theta)]], dtype=np.float32) * np.float32(
        math.sqrt(2.0)
    )
    return np.asarray(audio * balance, dtype=np.float32)


def chain_spool(raw: Spool, chain: Chain, *, sample_rate: int) -> Spool:
    """`production.run_chain` over a spool: a pass per run of filters (their state carried
    from block to block) and per compressor (after a read for the stem's peaks)."""
    current = raw
    bands: list[EqBand] = []
    for processor in [*chain, None]:
        if processor is not None and not isinstance(processor, Compressor):
            bands.append(processor.band())
            continue
        if bands:
            current, bands = _filtered(current, tuple(bands), sample_rate), []
        if isinstance(processor, Compressor):
            current = _compressed(current, processor, sample_rate)
    return current


def _filtered(source: Spool, bands: tuple[EqBand, ...], sample_rate: int) -> Spool:
    sos = np.array(eq_sos(bands, sample_rate))
    state = np.zeros((sos.shape[0], source.channels, 2))
    out = Spool(source.channels, expected_samples=source.n_samples)
    for _, x in source.blocks(CHUNK):
        y, state = signal.sosfilt(sos, x, axis=-1, zi=state)
        out.append(y.astype(np.float32))
    return out


def _compressed(source: Spool, compressor: Compressor, sample_rate: int) -> Spool:
    peaks = np.concatenate([block_peaks(x) for _, x in source.blocks(CHUNK)] or [np.zeros(0)])
    peak = float(peaks.max()) if peaks.size else 0.0
    if peak <= 0.0:
        return source
    knots = compressor_knots(
        peaks, sample_rate=sample_rate,
        threshold_db=20.0 * float(np.log10(peak)) - compressor.threshold_below_peak_db,
        ratio=compressor.ratio, attack_ms=compressor.attack_ms,
        release_ms=compressor.release_ms, knee_db=compressor.knee_db,
    )  # fmt: skip
    out = Spool(source.channels, expected_samples=source.n_samples)
    for start, x in source.blocks(CHUNK):
        out.append(x * knots_between(knots, CONTROL_BLOCK, start, start + x.shape[1]))
    return out


def reverb_spool(send: Spool, *, sample_rate: int, room: ReverbRoom) -> Spool:
    """`effects.reverb` (wet only) of a mono spool, as a stereo spool: the send decimated
    by block means, convolved a block at a time with the room's impulse response (the
    tail carried into the next blocks) and interpolated back a segment behind."""
    factor = max(1, sample_rate // _REVERB_RATE_HZ)
    rate = sample_rate // factor
    key = (rate, round(room.room_size, 4), round(room.decay_s, 4), round(room.damping, 4))
    ir_len = _reverb_ir(*key).shape[1]
    n_fft = scipy.fft.next_fast_len(_REVERB_BLOCK + ir_len - 1, real=True)
    spectrum = _ir_spectrum(*key, n_fft)
    n = send.n_samples
    out = Spool(2, expected_samples=send.n_samples)
    carry = np.zeros((2, ir_len - 1), dtype=np.float64)
    last: np.ndarray | None = None
    for start, x in send.blocks(_REVERB_BLOCK * factor):
        mono = x[0]
        n_dec = -(-mono.size // factor)
        low = np.zeros(n_dec * factor, dtype=np.float32)
        low[: mono.size] = mono
        low = low.reshape(n_dec, factor).mean(axis=1, dtype=np.float32)
        wet = scipy.fft.irfft(scipy.fft.rfft(low, n_fft)[None, :] * spectrum, n_fft, axis=-1)
        wet = wet[:, : n_dec + ir_len - 1]
        wet[:, : carry.shape[1]] += carry
        carry = wet[:, n_dec:].copy()
        tail = wet[:, :n_dec].astype(np.float32)
        knots = tail if last is None else np.concatenate([last, tail], axis=1)
        segments = knots.shape[1] - 1
        emitted = out.n_samples
        count = min(segments * factor, n - emitted)
        out.append(np.stack([_knots_to_samples(k, factor, count) for k in knots]))
        last = tail[:, -1:]
        del start
    if last is not None and out.n_samples < n:
        count = n - out.n_samples
        out.append(np.repeat(last, count, axis=1))
    return out


@dataclass(frozen=True)
class _Curves:
    """The gain curves the mixer lays on stems: section energy, and ducking on top of it."""

    energy: EnergyCurve | None
    duck: np.ndarray | None
    n_samples: int
    sample_rate: int

    def between(self, start: int, stop: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(energy gain, energy and ducking gain) on samples [start, stop)."""
        gain = None
        if self.energy is not None:
            gain = self.energy.gain(start, stop, self.n_samples, self.sample_rate)
        dip = None if self.duck is None else knots_between(self.duck, CONTROL_BLOCK, start, stop)
        return gain, dip if gain is None else gain if dip is None else gain * dip


def _channel(
    stem: SpooledStem, curves: tuple[np.ndarray | None, np.ndarray | None], start: int, stop: int
) -> np.ndarray:
    """The stem's samples [start, stop) as it enters the bus (gain, curve), before panning;
    `curves` is `_Curves.between(start, stop)`."""
    read = stem.audio.read(start, stop)
    audio = read[0] if stem.audio.channels == 1 else read
    audio *= np.float32(10.0 ** (stem.gain_db / 20.0))
    gain, dipped = curves
    curve = dipped if stem.ducked else gain
    if curve is not None:
        audio *= curve
    return np.asarray(audio)


class StemAudio(BlockAudio):
    """A stem as it sits in the master, computed a block at a time when read: its channel
    in the mix times the master's gain."""

    def __init__(self, source: SpooledStem | Spool, curves: _Curves, mastered: Mastered) -> None:
        self.source = source
        self.curves = curves
        self.mastered = mastered
        self.channels = 2
        self.n_samples = curves.n_samples

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self.n_samples)
        if isinstance(self.source, Spool):
            placed = self.source.read(start, stop)
        else:
            audio = _channel(self.source, self.curves.between(start, stop), start, stop)
            placed = _place(self.source, audio)
        placed *= self.mastered.gain(start, stop)
        return np.asarray(placed)


@dataclass
class Mixed:
    """The master (on disk), its measures, and each stem as it sits in it (read on demand)."""

    mastered: Mastered
    stems: dict[str, BlockAudio]


def mix_spooled(
    stems: Sequence[SpooledStem],
    *,
    sample_rate: int,
    n_samples: int,
    energy: EnergyCurve | None,
    duck: np.ndarray | None,
    production: Production,
    target_lufs: float,
    ceiling_dbtp: float,
    fixed: MasterGains | None = None,
) -> Mixed:
    """Mix and master spooled stems as `mixer.mix` does arrays; `duck` is the ducking gain
    at every control block (`effects.duck_knots`), applied to the stems marked `ducked`.
    Given `fixed` (a whole piece's `Mastered.gains`), the section dynamics are relative to
    its energy peak and the master applies its gains instead of normalising."""
    if energy is not None and fixed is not None:
        energy = dataclasses.replace(energy, peak=fixed.energy_peak)
    curves = _Curves(energy, duck, n_samples, sample_rate)
    bus = Spool(2, expected_samples=n_samples)
    sends = any(stem.reverb_send > 0 for stem in stems)
    send = Spool(1, expected_samples=n_samples if sends else 0)
    for start in range(0, n_samples, CHUNK):
        stop = min(start + CHUNK, n_samples)
        mixed = np.zeros((2, stop - start), dtype=np.float32)
        sent = np.zeros(stop - start, dtype=np.float32)
        between = curves.between(start, stop)
        for stem in stems:
            audio = _channel(stem, between, start, stop)
            if stem.reverb_send > 0:
                sent += np.float32(stem.reverb_send) * (audio if audio.ndim == 1 else audio.mean(0))
            mixed += _place(stem, audio)
        bus.append(mixed)
        if sends:
            send.append(sent)
    sources: dict[str, SpooledStem | Spool] = {stem.name: stem for stem in stems}
    if sends and any(np.any(x) for _, x in send.blocks(CHUNK)):
        wet = reverb_spool(send, sample_rate=sample_rate, room=production.reverb)
        name = REVERB_STEM
        while name in sources:
            name = "_" + name
        sources[name] = wet
        for start, x in bus.blocks(CHUNK):
            x += wet.read(start, start + x.shape[1])
            bus.write_at(start, x)
    send.close()
    mastered = master(
        bus, sample_rate=sample_rate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
        settings=production.bus, fixed=fixed,
    )  # fmt: skip
    bus.close()
    peak = (
        energy.top(n_samples, sample_rate)
        if energy is not None
        else fixed.energy_peak
        if fixed is not None
        else 1.0
    )
    mastered.gains = mastered.gains.model_copy(update={"energy_peak": peak})
    return Mixed(mastered, {name: StemAudio(s, curves, mastered) for name, s in sources.items()})
