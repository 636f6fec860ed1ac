"""Sampler: play a track's notes from a General MIDI SoundFont (SF2) with tinysoundfont.

Optional stage: where an SF2 is available (configured, or Debian's fluid-soundfont-gm at
`/usr/share/sounds/sf2/`), acoustic GM programs sound better played from real samples
than synthesized. Rendering is offline and block-exact: the synth runs between note
events, so each note starts and stops on its own sample. Nothing is ever downloaded.

tinysoundfont (MIT) was chosen over pyfluidsynth (LGPL, needs libfluidsynth3): it is a
self-contained wheel, renders faster (about 100x real time for a 300-note piano track
here) and only needs pyaudio for live playback, which this module never uses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from soundstar.engine.ddsp import check_glide_arrays, check_note_arrays
from soundstar.errors import ConfigError, ParameterError

STANDARD_SOUNDFONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)

# GM program families (0-based, 8 programs each) whose samples beat synthesis; synth
# leads/pads/effects, synth bass (38-39), synth strings (50-51) and synth brass (62-63)
# stay with DDSP.
SAMPLED_FAMILIES: dict[str, tuple[int, ...]] = {
    "piano": tuple(range(0, 8)),
    "chromatic_percussion": tuple(range(8, 16)),
    "organ": tuple(range(16, 24)),
    "guitar": tuple(range(24, 32)),
    "bass": tuple(range(32, 38)),
    "strings": tuple(range(40, 48)),
    "ensemble": (48, 49, 52, 53, 54, 55),
    "brass": tuple(range(56, 62)),
    "reed": tuple(range(64, 72)),
    "pipe": tuple(range(72, 80)),
    "ethnic": tuple(range(104, 112)),
    "percussive": tuple(range(112, 120)),
}
_SAMPLED_PROGRAMS = frozenset(p for programs in SAMPLED_FAMILIES.values() for p in programs)

# Notes tuned apart (a detuned note, a kick tuned to the key) play on channels of their own,
# each with its tuning, in one run of the synth: drums from GM channel 10 (9, 0-based) on.
_DRUM_CHANNELS = (9, *range(10, 16), *range(9))
_MELODIC_CHANNELS = (*range(9), *range(10, 16))
_END_FADE_S = 0.005
_FLUSH_BLOCK = 256
_FLUSH_MAX_S = 2.0
_CACHE_SIZE = 4
_STEREO = 2
# GM's bass drums and snares, with the band where their pitch (the kick's boom, the snare's
# body) lies: the kit pieces heard, and read by a key finder, as a note, so they are tuned
# to the key as a producer tunes them; other pieces keep their pitch.
TUNED_DRUMS: dict[int, tuple[float, float]] = {
    35: (30.0, 160.0),
    36: (30.0, 160.0),
    38: (120.0, 400.0),
    40: (120.0, 400.0),
}
_PROBE_S = 0.5
# A gliding note has a channel to itself (its tuning moves while it sounds), free for the
# next glide this long after its note-off (the SoundFont's release); the tuning steps
# every _GLIDE_STEP samples, the block TinySoundFont updates its own modulators on (1.5 ms
# at 44.1 kHz; each step costs a call into the synth).
_GLIDE_REST_S = _FLUSH_MAX_S
_GLIDE_STEP = 64
# Event kinds, in the order they run at one sample.
_OFF, _TUNE, _ON = 0, 1, 2
Event = tuple[int, int, int, int, float]
"""(sample, kind, channel, key, velocity for _ON or tuning in semitones for _TUNE)"""


def prefers_sampler(program: int, *, is_drum: bool = False) -> bool:
    """Whether a GM program (0-based) sounds better sampled than synthesized; drums always do."""
    if not 0 <= program <= 127:
        raise ParameterError(f"GM program must be in [0, 127], got {program}", field="program")
    return is_drum or program in _SAMPLED_PROGRAMS


def find_soundfont(configured: Path | None) -> Path | None:
    """The SF2 to use: the configured path, else Debian's standard GM SoundFont, else None.

    A configured path that is not a file raises ConfigError rather than silently falling
    back: the operator asked for that file.
    """
    if configured is not None:
        if not configured.is_file():
            raise ConfigError(
                f"configured SoundFont {configured} does not exist or is not a file",
                field="soundfont_path",
            )
        return configured
    for candidate in STANDARD_SOUNDFONT_PATHS:
        if candidate.is_file():
            return candidate
    return None


def sampler_status(configured: Path | None) -> tuple[bool, str]:
    """(runs, why) for the sampler stage, without loading the SoundFont."""
    try:
        path = find_soundfont(configured)
    except ConfigError as exc:
        return False, f"skipped: {exc.message}"
    if path is None:
        searched = ", ".join(str(p) for p in STANDARD_SOUNDFONT_PATHS)
        return False, f"skipped: no SoundFont configured and none at {searched}"
    try:
        import tinysoundfont  # noqa: F401
    except ImportError:
        return False, "skipped: tinysoundfont is not installed"
    return True, f"run: SoundFont {path}"


def tuning_cents(hz: float, key_pc: int, band: tuple[float, float]) -> float:
    """Cents from `hz` to the nearest pitch of class `key_pc` that lies in `band` (a kick is
    not tuned down into the inaudible), whole cents."""
    midi = 69.0 + 12.0 * np.log2(hz / 440.0)
    candidates = [12.0 * octave + key_pc for octave in range(11)]
    in_band = [m for m in candidates if band[0] <= 440.0 * 2.0 ** ((m - 69.0) / 12.0) <= band[1]]
    nearest = min(in_band or candidates, key=lambda m: abs(m - midi))
    return float(np.rint(100.0 * (nearest - midi)))


def _note_events(
    key: np.ndarray,
    on_smp: np.ndarray,
    off_smp: np.ndarray,
    vel_127: np.ndarray,
    channel: np.ndarray,
    tunes: list[Event] | None = None,
) -> Iterator[Event]:
    """Note-ons, note-offs and `tunes` sorted by time; at equal times note-offs come
    first, then tunings, then note-ons."""
    events: list[Event] = [
        (int(s), _OFF, int(c), int(k), 0.0) for s, c, k in zip(off_smp, channel, key, strict=True)
    ]
    events += [
        (int(s), _ON, int(c), int(k), float(v))
        for s, c, k, v in zip(on_smp, channel, key, vel_127, strict=True)
    ]
    events += tunes or []
    events.sort()
    return iter(events)


def glide_tunings(
    on_smp: int, n_glide: int, channel: int, start_semitones: float, end_semitones: float
) -> list[Event]:
    """A channel's tuning moved in a straight line from `start_semitones` (set at the
    note-on) to `end_semitones` over `n_glide` samples, a step every `_GLIDE_STEP`."""
    steps = np.arange(0, n_glide, _GLIDE_STEP, dtype=np.int64)
    values = start_semitones + (end_semitones - start_semitones) * steps / max(n_glide, 1)
    tunes: list[Event] = [
        (on_smp + int(k), _TUNE, channel, -1, float(v)) for k, v in zip(steps, values, strict=True)
    ]
    tunes.append((on_smp + n_glide, _TUNE, channel, -1, float(end_semitones)))
    return tunes


def _glide_passes(
    on_smp: np.ndarray, off_smp: np.ndarray, channels: int, rest: int
) -> list[list[tuple[int, int]]]:
    """Gliding notes spread over passes of the synth, each note on a channel of its own
    from its note-on to `rest` samples after its note-off: [(note index, channel slot)]
    per pass, in onset order."""
    passes: list[list[tuple[int, int]]] = []
    free_at: list[list[int]] = []  # per pass, per channel slot: the sample it is free from
    for i in np.argsort(on_smp, kind="stable"):
        on = int(on_smp[i])
        placed = False
        for slots, members in zip(free_at, passes, strict=True):
            slot = next((c for c, free in enumerate(slots) if free <= on), None)
            if slot is not None:
                slots[slot] = int(off_smp[i]) + rest
                members.append((int(i), slot))
                placed = True
                break
        if not placed:
            free_at.append([int(off_smp[i]) + rest] + [-1] * (channels - 1))
            passes.append([(int(i), 0)])
    return passes


class SoundFontSampler:
    """One loaded SoundFont at one output rate. Renders are serialized by a lock.

    Get instances from `SoundFontSampler.load`, which caches them per (path, rate): an
    SF2 like FluidR3_GM (145 MB) takes over a second to parse.
    """

    def __init__(self, synth: Any, sfid: int, *, path: Path, sample_rate: int) -> None:
        self._synth = synth
        self._sfid = sfid
        self._lock = threading.Lock()
        self.path = path
        self.sample_rate = sample_rate
        self._drum_hz: dict[tuple[int, int], float | None] = {}

    @classmethod
    def load(cls, path: Path, *, sample_rate: int) -> SoundFontSampler:
        """Load (once per resolved path and rate) an SF2; ConfigError if missing or unreadable."""
        if sample_rate <= 0:
            raise ParameterError(f"sample_rate must be positive, got {sample_rate}")
        if not path.is_file():
            raise ConfigError(f"SoundFont {path} does not exist", field="soundfont_path")
        return _load_cached(path.resolve(), sample_rate)

    def __repr__(self) -> str:
        return f"SoundFontSampler(path={str(self.path)!r}, sample_rate={self.sample_rate})"

    def preset_name(self, program: int, *, is_drum: bool = False) -> str | None:
        """The SoundFont's name for a GM program (drum kits sit in bank 128), or None."""
        name = self._synth.sfpreset_name(self._sfid, 128 if is_drum else 0, program)
        return None if name is None else str(name)

    def render_notes(
        self,
        pitch_midi: np.ndarray,
        onset_s: np.ndarray,
        duration_s: np.ndarray,
        velocity: np.ndarray,
        *,
        program: int,
        is_drum: bool,
        n_samples: int,
        key_pc: int | None = None,
        first_sample: int = 0,
        glide_semitones: np.ndarray | None = None,
        glide_s: np.ndarray | None = None,
    ) -> np.ndarray:
        """Play a list of notes with one GM program, as `ddsp.render_notes` does with a preset.

        Parameters
        ----------
        pitch_midi : MIDI pitches, shape [n_notes]; fractional pitches are tuned to the
            cent (a pass per distinct detune); for drums the rounded pitch picks the drum.
        onset_s, duration_s : note start and held length (s), shape [n_notes]; the
            SoundFont's release sounds after the held part.
        velocity : in [0, 1], mapped to MIDI velocity 0-127 (0 is silent).
        program : GM program, 0-based; for drums the kit (0 = Standard; a kit the SF2
            lacks falls back to another of its kits, as tinysoundfont does).
        is_drum : play on GM channel 10 (the SoundFont's percussion bank 128).
        n_samples : output length; what would sound later is dropped, with a short fade.
        key_pc : for drums, the piece's tonic pitch class: the kit's bass drums and snares
            are tuned to its nearest tonic (within a tritone); None keeps the kit's tuning.
        first_sample : the track's sample the output starts at (see `ddsp.render_notes`).
        glide_semitones, glide_s : per note, the glide into its pitch (see
            `ddsp.render_notes`); a gliding note plays on a channel of its own whose tuning
            is moved while it sounds (drums do not glide).

        Returns mono float32 audio [n_samples] (the SoundFont's stereo summed to its
        mid, so the mixer pans it like any other stem).
        """
        if not 0 <= program <= 127:
            raise ParameterError(f"GM program must be in [0, 127], got {program}", field="program")
        if n_samples < 0:
            raise ParameterError(f"n_samples must be non-negative, got {n_samples}")
        pitch = np.asarray(pitch_midi, dtype=np.float64).reshape(-1)
        onset = np.asarray(onset_s, dtype=np.float64).reshape(-1)
        duration = np.asarray(duration_s, dtype=np.float64).reshape(-1)
        vel = np.asarray(velocity, dtype=np.float64).reshape(-1)
        check_note_arrays(pitch, onset, duration, vel)
        glides = check_glide_arrays(glide_semitones, glide_s, pitch.size)
        out = np.zeros(n_samples, dtype=np.float32)
        vel_127 = np.rint(vel * 127.0).astype(np.int64)
        keep = vel_127 > 0
        if n_samples == 0 or not np.any(keep):
            return out
        pitch, onset, duration, vel_127 = pitch[keep], onset[keep], duration[keep], vel_127[keep]
        sr = self.sample_rate
        semis = np.zeros(pitch.size) if glides is None else glides[0][keep]
        n_glide = np.zeros(pitch.size, dtype=np.int64)
        if glides is not None and not is_drum:
            n_glide = np.rint(glides[1][keep] * sr).astype(np.int64)
        gliding = (n_glide > 0) & (semis != 0.0)
        key = np.clip(np.rint(pitch), 0, 127).astype(np.int64)
        on_smp = np.rint(onset * sr).astype(np.int64)
        off_smp = np.maximum(np.rint((onset + duration) * sr).astype(np.int64), on_smp + 1)
        on_smp -= first_sample
        off_smp -= first_sample
        stereo = np.empty((n_samples, _STEREO), dtype=np.float32)
        plain = ~gliding
        with self._lock:
            if not is_drum:
                detune_cents = np.rint((pitch - key) * 100.0)
            else:
                detune_cents = np.zeros(key.shape, dtype=np.float64)
                if key_pc is not None:
                    for note in TUNED_DRUMS.keys() & {int(k) for k in key}:
                        detune_cents[key == note] = self._drum_cents(program, note, key_pc)
            channels = _DRUM_CHANNELS if is_drum else _MELODIC_CHANNELS
            tunings = np.unique(detune_cents[plain])
            for first in range(0, tunings.size, len(channels)):
                batch = tunings[first : first + len(channels)]
                channel = np.full(key.shape, -1, dtype=np.int64)
                for chan, cents in zip(channels, batch, strict=False):
                    channel[detune_cents == cents] = chan
                sel = (channel >= 0) & plain
                self._render_pass(
                    stereo,
                    _note_events(key[sel], on_smp[sel], off_smp[sel], vel_127[sel], channel[sel]),
                    program=program,
                    is_drum=is_drum,
                    tunings={
                        chan: float(cents) / 100.0
                        for chan, cents in zip(channels, batch, strict=False)
                    },
                )
                out += (stereo[:, 0] + stereo[:, 1]) * np.float32(0.5)
            if np.any(gliding):
                detune = detune_cents / 100.0
                glide_on = on_smp[gliding]
                for members in _glide_passes(
                    glide_on, off_smp[gliding], len(channels), int(_GLIDE_REST_S * sr)
                ):
                    notes = np.flatnonzero(gliding)[[m for m, _ in members]]
                    chans = np.array([channels[slot] for _, slot in members], dtype=np.int64)
                    tunes = [
                        event
                        for i, chan in zip(notes, chans, strict=True)
                        for event in glide_tunings(
                            int(on_smp[i]), int(n_glide[i]), int(chan),
                            float(detune[i] + semis[i]), float(detune[i]),
                        )
                    ]  # fmt: skip
                    self._render_pass(
                        stereo,
                        _note_events(
                            key[notes], on_smp[notes], off_smp[notes], vel_127[notes], chans, tunes
                        ),
                        program=program,
                        is_drum=is_drum,
                        tunings={int(c): 0.0 for c in np.unique(chans)},
                    )
                    out += (stereo[:, 0] + stereo[:, 1]) * np.float32(0.5)
        n_fade = min(max(int(_END_FADE_S * sr), 1), n_samples)
        out[n_samples - n_fade :] *= np.linspace(1.0, 0.0, n_fade, dtype=np.float32)
        return out

    def _render_pass(
        self,
        stereo: np.ndarray,
        events: Iterator[Event],
        *,
        program: int,
        is_drum: bool,
        tunings: Mapping[int, float],
    ) -> None:
        """Fill `stereo` [n, 2] by running the synth between events (note-ons, note-offs,
        tunings of a channel that move its sounding voices), from silence; `tunings` gives
        each channel the events use its starting tuning in semitones."""
        synth = self._synth
        self._silence()
        for chan, semitones in tunings.items():
            try:
                synth.program_select(chan, self._sfid, 0, program, is_drums=is_drum)
            except RuntimeError as exc:
                kind = "drum kit" if is_drum else "program"
                raise ParameterError(
                    f"SoundFont {self.path} has no {kind} {program}", field="program"
                ) from exc
            synth.set_tuning(chan, semitones)
        n = stereo.shape[0]
        pos = 0
        for at, what, chan, key, value in events:
            at = min(at, n)
            if at > pos:
                synth.generate_simple(at - pos, buffer=stereo[pos:at].data.cast("B"))
                pos = at
            if at >= n:
                break
            if what == _ON:
                synth.noteon(chan, key, int(value))
            elif what == _TUNE:
                synth.set_tuning(chan, value)
            else:
                synth.noteoff(chan, key)
        if pos < n:
            synth.generate_simple(n - pos, buffer=stereo[pos:n].data.cast("B"))

    def _drum_cents(self, program: int, note: int, key_pc: int) -> float:
        """Cents that move a kit piece to the nearest tonic of the key (0 when its pitch
        cannot be read). Call with the lock held."""
        if (program, note) not in self._drum_hz:
            self._drum_hz[(program, note)] = self._probe_pitch_hz(program, note)
        hz = self._drum_hz[(program, note)]
        return 0.0 if hz is None else tuning_cents(hz, key_pc, TUNED_DRUMS[note])

    def _probe_pitch_hz(self, program: int, note: int) -> float | None:
        """The strongest frequency in the piece's pitch band (TUNED_DRUMS) of one hit."""
        n = int(_PROBE_S * self.sample_rate)
        stereo = np.zeros((n, _STEREO), dtype=np.float32)
        self._render_pass(
            stereo,
            _note_events(
                np.array([note]),
                np.array([0]),
                np.array([n // 2]),
                np.array([110]),
                np.array([_DRUM_CHANNELS[0]]),
            ),
            program=program,
            is_drum=True,
            tunings={_DRUM_CHANNELS[0]: 0.0},
        )
        mono = stereo.mean(axis=1) * np.hanning(n).astype(np.float32)
        spectrum = np.abs(np.fft.rfft(mono, n=8 * n))
        freqs = np.fft.rfftfreq(8 * n, 1.0 / self.sample_rate)
        lo, hi = TUNED_DRUMS[note]
        band = (freqs >= lo) & (freqs <= hi)
        if not np.any(spectrum[band] > 0):
            return None
        return float(freqs[band][np.argmax(spectrum[band])])

    def _silence(self) -> None:
        """Reset channels and run the synth until the quick release of old voices is over."""
        self._synth.soundfonts[self._sfid].reset()
        block = np.empty((_FLUSH_BLOCK, _STEREO), dtype=np.float32)
        for _ in range(int(_FLUSH_MAX_S * self.sample_rate) // _FLUSH_BLOCK + 1):
            self._synth.generate_simple(_FLUSH_BLOCK, buffer=block.data.cast("B"))
            if not np.any(block):
                return


@lru_cache(maxsize=_CACHE_SIZE)
def _load_cached(path: Path, sample_rate: int) -> SoundFontSampler:
    try:
        import tinysoundfont
    except ImportError as exc:
        raise ConfigError(
            "the sampler needs the tinysoundfont package (pip install --no-deps tinysoundfont)"
        ) from exc
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    try:
        sfid = synth.sfload(str(path))
    except (RuntimeError, tinysoundfont.SoundFontException) as exc:
        raise ConfigError(
            f"SoundFont {path} could not be read (not a valid SF2 file?)", field="soundfont_path"
        ) from exc
    return SoundFontSampler(synth, sfid, path=path, sample_rate=sample_rate)
