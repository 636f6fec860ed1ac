"""Synthesized drum kits: one-shots built once per (kit, voice, sample rate), then placed.

Every voice is a sum of up to four parts, described in `data/drum_kits.yaml`: a tone
(sine partials on a falling pitch sweep: kicks, toms, congas, blocks), noise bands
(snare wires, claps, shakers, cymbal wash), a metallic cluster of six square waves at
inharmonic ratios (hats and cowbells) and a transient click; then saturation. A kit is
the acoustic voice set with overrides, plus kit-wide colour (drive, bit depth, rate).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import signal

from soundstar.engine.data_file import read_data_file
from soundstar.errors import ConfigError, ParameterError

GM_DRUM_NOTES: dict[str, int] = {
    "kick": 36,
    "rim": 37,
    "snare": 38,
    "clap": 39,
    "closed_hat": 42,
    "pedal_hat": 44,
    "open_hat": 46,
    "tom_low": 45,
    "tom_mid": 47,
    "tom_high": 50,
    "crash": 49,
    "ride": 51,
    "ride_bell": 53,
    "tambourine": 54,
    "cowbell": 56,
    "bongo_high": 60,
    "bongo_low": 61,
    "conga_high": 62,
    "conga_low": 64,
    "shaker": 70,
    "clave": 75,
    "woodblock": 76,
    "triangle": 81,
}
DRUM_VOICES: tuple[str, ...] = tuple(GM_DRUM_NOTES)
DRUM_KITS: tuple[str, ...] = (
    "acoustic",
    "brush",
    "electronic_808",
    "electronic_909",
    "lofi",
    "breakbeat",
    "latin",
)
_METAL_RATIOS = (1.0, 1.4471, 1.617, 1.9265, 2.5028, 2.6637)
_HAT_CHOKERS = frozenset({"closed_hat", "pedal_hat", "open_hat"})
_CHOKE_FADE_S = 0.006
_N_VARIANTS = 2
_SOFT_CUTOFF_HZ = 2500.0


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToneSpec(_Spec):
    """Sine partials at `ratio` x a pitch that falls from freq*(1+sweep_ratio) to freq."""

    freq_hz: float = Field(gt=0.0, le=15000.0)
    sweep_ratio: float = Field(default=0.0, ge=0.0, le=20.0)
    sweep_s: float = Field(default=0.02, gt=0.0, le=2.0)
    decay_s: float = Field(gt=0.0, le=10.0)
    level: float = Field(default=1.0, ge=0.0, le=4.0)
    partials: tuple[tuple[float, float, float], ...] = ((1.0, 1.0, 1.0),)
    """(frequency ratio, level, decay scale) of each partial."""


class NoiseSpec(_Spec):
    """A band of noise, lo_hz..hi_hz, with an attack and exponential decay; clap repeats."""

    level: float = Field(default=1.0, ge=0.0, le=4.0)
    lo_hz: float = Field(default=20.0, gt=0.0)
    hi_hz: float = Field(default=16000.0, gt=0.0)
    attack_s: float = Field(default=0.0, ge=0.0, le=1.0)
    decay_s: float = Field(gt=0.0, le=10.0)
    repeats: int = Field(default=1, ge=1, le=8)
    spacing_s: float = Field(default=0.01, gt=0.0, le=0.1)


class MetalSpec(_Spec):
    """Six square waves at inharmonic ratios of base_hz, band-passed: hats, cowbells."""

    level: float = Field(default=1.0, ge=0.0, le=4.0)
    base_hz: float = Field(gt=0.0, le=5000.0)
    lo_hz: float = Field(gt=0.0)
    hi_hz: float = Field(gt=0.0)
    decay_s: float = Field(gt=0.0, le=10.0)
    voices: int = Field(default=6, ge=1, le=6)


class VoiceSpec(_Spec):
    length_s: float = Field(gt=0.0, le=6.0)
    gain_db: float = Field(default=0.0, ge=-40.0, le=12.0)
    drive: float = Field(default=0.0, ge=0.0, le=20.0)
    tone: ToneSpec | None = None
    noise: tuple[NoiseSpec, ...] = ()
    metal: MetalSpec | None = None


class KitColour(_Spec):
    """Kit-wide processing of every one-shot."""

    tune_semitones: float = Field(default=0.0, ge=-24.0, le=24.0)
    decay_scale: float = Field(default=1.0, gt=0.0, le=4.0)
    drive: float = Field(default=0.0, ge=0.0, le=20.0)
    bits: int = Field(default=0, ge=0, le=24)
    hold_samples: int = Field(default=1, ge=1, le=16)
    lowpass_hz: float = Field(default=0.0, ge=0.0)
    gain_db: float = Field(default=0.0, ge=-24.0, le=24.0)


class Kit(_Spec):
    name: str
    colour: KitColour
    voices: dict[str, VoiceSpec]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@cache
def _kits() -> dict[str, Kit]:
    raw = read_data_file("drum_kits.yaml")
    if not isinstance(raw, dict) or "voices" not in raw or "kits" not in raw:
        raise ConfigError("drum_kits.yaml must hold 'voices' and 'kits'")
    base_voices: dict[str, Any] = raw["voices"]
    kits: dict[str, Kit] = {}
    for name, spec in raw["kits"].items():
        spec = spec or {}
        voices = {
            v: _merge(base_voices[v], (spec.get("voices") or {}).get(v, {})) for v in base_voices
        }
        try:
            kits[name] = Kit(
                name=name, colour=KitColour(**(spec.get("colour") or {})), voices=voices
            )
        except ValidationError as exc:
            raise ConfigError(f"drum kit {name!r} in drum_kits.yaml is invalid: {exc}") from exc
    for name in DRUM_KITS:
        if name not in kits or set(kits[name].voices) != set(DRUM_VOICES):
            raise ConfigError(f"drum kit {name!r} is missing or lacks voices in drum_kits.yaml")
    return kits


def load_kit(kit: str) -> Kit:
    """The kit named `kit`, with every voice's parameters resolved."""
    kits = _kits()
    if kit not in kits:
        raise ParameterError(
            f"unknown drum kit {kit!r}; one of {', '.join(DRUM_KITS)}", field="kit"
        )
    return kits[kit]


def _band(x: np.ndarray, lo_hz: float, hi_hz: float, sample_rate: int) -> np.ndarray:
    nyq = sample_rate / 2.0
    lo, hi = min(lo_hz, nyq * 0.95), min(hi_hz, nyq * 0.95)
    if lo <= 25.0 and hi >= nyq * 0.9:
        return x
    if lo <= 25.0:
        sos = signal.butter(2, hi, "lowpass", fs=sample_rate, output="sos")
    elif hi >= nyq * 0.9 or hi <= lo:
        sos = signal.butter(2, lo, "highpass", fs=sample_rate, output="sos")
    else:
        sos = signal.butter(2, [lo, hi], "bandpass", fs=sample_rate, output="sos")
    return np.asarray(signal.sosfilt(sos, x))


def _decay(t: np.ndarray, tau_s: float) -> np.ndarray:
    """exp(-t / tau) over the span where it is above -80 dB (float32), zeros after."""
    out = np.zeros(t.size, dtype=np.float32)
    span = (
        min(t.size, int(9.3 * tau_s / max(float(t[1] - t[0]), 1e-12)) + 1) if t.size > 1 else t.size
    )
    out[:span] = np.exp(-t[:span] / np.float32(tau_s))
    return out


def _synth_voice(
    spec: VoiceSpec, colour: KitColour, sample_rate: int, rng: np.random.Generator, detune: float
) -> np.ndarray:
    """One one-shot (float32) from its spec; `detune` is a small frequency factor."""
    n = max(int(spec.length_s * colour.decay_scale * sample_rate), 16)
    t = np.arange(n, dtype=np.float32) / np.float32(sample_rate)
    out = np.zeros(n, dtype=np.float32)
    tune = 2.0 ** (colour.tune_semitones / 12.0) * detune
    ds = colour.decay_scale
    if spec.tone is not None:
        tone = spec.tone
        sweep = np.float32(tone.sweep_ratio) * _decay(t, tone.sweep_s)
        f = np.float32(tone.freq_hz * tune) * (1.0 + sweep)
        phase = np.cumsum(f, dtype=np.float64) * (2.0 * np.pi / sample_rate)
        for ratio, level, decay_scale in tone.partials:
            if tone.freq_hz * tune * ratio >= sample_rate * 0.45:
                continue
            env = _decay(t, tone.decay_s * decay_scale * ds)
            span = int(np.count_nonzero(env))
            wave = np.sin(ratio * phase[:span]).astype(np.float32)
            out[:span] += np.float32(level * tone.level) * wave * env[:span]
    for noise in spec.noise:
        white = rng.standard_normal(n, dtype=np.float32)
        white = _band(white, noise.lo_hz, noise.hi_hz, sample_rate).astype(np.float32)
        white /= max(float(np.std(white)), 1e-12)
        env = np.zeros(n, dtype=np.float32)
        for r in range(noise.repeats):
            shift = int(r * noise.spacing_s * sample_rate)
            last = r == noise.repeats - 1
            decay = noise.decay_s * ds if last else noise.spacing_s / 2.5
            part = _decay(t[: n - shift], decay)
            if noise.attack_s > 0:
                part *= np.clip(t[: n - shift] / np.float32(noise.attack_s), 0.0, 1.0)
            np.maximum(env[shift:], part, out=env[shift:])
        out += np.float32(noise.level * 0.5) * white * env
    if spec.metal is not None:
        metal = spec.metal
        env = _decay(t, metal.decay_s * ds)
        span = int(np.count_nonzero(env))
        cluster = np.zeros(span, dtype=np.float32)
        for ratio in _METAL_RATIOS[: metal.voices]:
            cycles = np.float32(metal.base_hz * tune * ratio) * t[:span] + np.float32(rng.uniform())
            cluster += np.where(cycles - np.floor(cycles) < 0.5, 1.0, -1.0).astype(np.float32)
        cluster = _band(cluster, metal.lo_hz, metal.hi_hz, sample_rate).astype(np.float32)
        cluster /= max(float(np.std(cluster)), 1e-12)
        out[:span] += np.float32(metal.level * 0.5) * cluster * env[:span]
    drive = spec.drive + colour.drive
    if drive > 0:
        peak = max(float(np.max(np.abs(out))), 1e-12)
        out = (np.tanh(np.float32(drive / peak) * out) * np.float32(peak / np.tanh(drive))).astype(
            np.float32
        )
    if colour.bits > 0 or colour.hold_samples > 1:
        out = _crush(out, colour)
    if colour.lowpass_hz > 0:
        sos = signal.butter(
            2, min(colour.lowpass_hz, sample_rate * 0.45), fs=sample_rate, output="sos"
        )
        out = signal.sosfilt(sos, out).astype(np.float32)
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= np.float32(10.0 ** ((spec.gain_db + colour.gain_db) / 20.0) / peak)
    n_in = min(max(int(0.0005 * sample_rate), 1), n)
    out[:n_in] *= np.linspace(0.0, 1.0, n_in, endpoint=False, dtype=np.float32)
    n_out = min(int(0.005 * sample_rate), n)
    out[n - n_out :] *= np.linspace(1.0, 0.0, n_out, dtype=np.float32)
    return out


def _crush(x: np.ndarray, colour: KitColour) -> np.ndarray:
    """Sample-and-hold rate reduction and bit-depth quantisation (lo-fi colour)."""
    if colour.hold_samples > 1:
        idx = (np.arange(x.size) // colour.hold_samples) * colour.hold_samples
        x = x[idx]
    if colour.bits > 0:
        peak = max(float(np.max(np.abs(x))), 1e-12)
        steps = 2.0 ** (colour.bits - 1)
        x = np.round(x / peak * steps) / steps * peak
    return x


def key_tuning(freq_hz: float, key_pc: int | None) -> float:
    """Frequency factor that moves a drum's pitch to the nearest tonic of the key (±6 semitones).

    Tuned drums (as producers tune an 808 or toms) reinforce the key instead of adding
    a stray pitch class to what a listener, or a chroma analysis, hears. None: no change.
    """
    if key_pc is None:
        return 1.0
    midi = 69.0 + 12.0 * np.log2(freq_hz / 440.0)
    nearest = min((12.0 * octave + key_pc for octave in range(-1, 12)), key=lambda m: abs(m - midi))
    return float(2.0 ** ((nearest - midi) / 12.0))


@cache
def _one_shots(
    kit: str, voice: str, sample_rate: int, key_pc: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(hard, soft) float32 one-shot pairs, one per round-robin variant; built once."""
    resolved = load_kit(kit)
    spec = resolved.voices[voice]
    tuning = (
        key_tuning(spec.tone.freq_hz * 2.0 ** (resolved.colour.tune_semitones / 12.0), key_pc)
        if spec.tone is not None
        else 1.0
    )
    shots = []
    sos = signal.butter(1, min(_SOFT_CUTOFF_HZ, sample_rate * 0.4), fs=sample_rate, output="sos")
    for variant in range(_N_VARIANTS):
        seed = zlib.crc32(f"{kit}/{voice}/{variant}".encode())
        rng = np.random.default_rng(seed)
        detune = (1.0 + 0.006 * (variant - 0.5)) * tuning
        hard = _synth_voice(spec, resolved.colour, sample_rate, rng, detune)
        soft = signal.sosfilt(sos, hard).astype(np.float32)
        soft *= np.float32(np.sqrt(np.mean(hard**2)) / max(np.sqrt(np.mean(soft**2)), 1e-12) * 0.8)
        shots.append((hard, soft))
    return tuple(shots)


def drum_draws(rng: np.random.Generator, n_hits: int) -> tuple[np.ndarray, np.ndarray]:
    """(round-robin variant, level jitter in dB) of each of `n_hits` hits, in hit order."""
    return rng.integers(_N_VARIANTS, size=n_hits), rng.uniform(-0.4, 0.4, size=n_hits)


def hat_onsets(onset_s: np.ndarray, voice: Sequence[str]) -> np.ndarray:
    """The sorted onsets of the hits that choke an open hat."""
    order = np.argsort(onset_s, kind="stable")
    return np.array([onset_s[i] for i in order if voice[i] in _HAT_CHOKERS], dtype=np.float64)


def render_drum_hits(
    onset_s: np.ndarray,
    voice: Sequence[str],
    velocity: np.ndarray,
    *,
    kit: str,
    sample_rate: int,
    n_samples: int,
    rng: np.random.Generator,
    key_pc: int | None = None,
    draws: tuple[np.ndarray, np.ndarray] | None = None,
    hat_times_s: np.ndarray | None = None,
    first_sample: int = 0,
) -> np.ndarray:
    """Place drum hits on a mono track.

    Parameters
    ----------
    onset_s : hit times (s), shape [n_hits].
    voice : the voice of each hit (one of DRUM_VOICES).
    velocity : in [0, 1]; louder and brighter towards 1.
    kit : one of DRUM_KITS.
    sample_rate, n_samples : output rate (Hz) and length.
    rng : picks the round-robin variant and a small level jitter of each hit.
    key_pc : the piece's tonic pitch class (C = 0): pitched voices (kick, toms, congas,
        snare body) are tuned to its nearest tonic or fifth; None keeps the kit's tuning.

    Returns mono float32 audio [n_samples]. An open hat is cut short (choked) by the
    next hi-hat hit. A track rendered a block at a time passes each block's hits with their
    `draws` (`drum_draws` of the whole track) and the track's `hat_times_s` (onsets of the
    hits that choke an open hat) and the block's `first_sample` in the track, so that it
    sounds as the whole track rendered at once.
    """
    onset = np.asarray(onset_s, dtype=np.float64).reshape(-1)
    vel = np.asarray(velocity, dtype=np.float64).reshape(-1)
    voices = list(voice)
    if onset.shape != vel.shape or len(voices) != onset.size:
        raise ParameterError("onset_s, voice and velocity must have the same length")
    if not (np.all(np.isfinite(onset)) and np.all(np.isfinite(vel))):
        raise ParameterError("drum onsets and velocities must be finite")
    if np.any(onset < 0) or np.any(vel < 0) or np.any(vel > 1):
        raise ParameterError("drum onsets must be >= 0 and velocities in [0, 1]")
    if sample_rate <= 0 or n_samples < 0:
        raise ParameterError("sample_rate must be positive and n_samples non-negative")
    if key_pc is not None and not 0 <= key_pc <= 11:
        raise ParameterError(f"key_pc must be a pitch class 0-11, got {key_pc}", field="key_pc")
    load_kit(kit)
    unknown = sorted(set(voices) - set(DRUM_VOICES))
    if unknown:
        raise ParameterError(f"unknown drum voice(s) {', '.join(unknown)}", field="voice")
    out = np.zeros(n_samples, dtype=np.float32)
    if onset.size == 0:
        return out
    order = np.argsort(onset, kind="stable")
    hat_times = hat_times_s if hat_times_s is not None else hat_onsets(onset, voices)
    variants, jitter_db = draws if draws is not None else drum_draws(rng, onset.size)
    fade = max(int(_CHOKE_FADE_S * sample_rate), 1)
    for i in order:
        start = round(float(onset[i] * sample_rate)) - first_sample
        if start >= n_samples:
            continue
        hard, soft = _one_shots(kit, voices[i], sample_rate, key_pc)[int(variants[i])]
        length = min(hard.size, n_samples - start)
        choke = 0
        if voices[i] == "open_hat":
            later = hat_times[hat_times > onset[i] + 1e-6]
            if later.size:
                choke = max(round(float((later[0] - onset[i]) * sample_rate)), fade)
                length = min(length, choke + fade)
        v = float(vel[i])
        hit = soft[:length] * np.float32(1.0 - v)
        hit += hard[:length] * np.float32(v)
        hit *= np.float32(10.0 ** ((20.0 * (v - 1.0) + jitter_db[i]) / 20.0))
        if choke and length == choke + fade:
            hit[choke:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        out[start : start + length] += hit
    return out
