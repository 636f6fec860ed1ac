"""The Score as a standard MIDI file (type 1): a conductor track, then one track per part.

Track 0 holds tempo, meter, key signature and section markers; every Score
track follows with its name, program and notes, and a track whose notes glide with its
pitch-bend range (RPN 0) and a bend ramp over each glide. `midi_to_summary` reads a
file back into plain values for tests and benchmarks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido

from soundstar.audio.export import atomic_output
from soundstar.errors import NotFoundError, ParameterError
from soundstar.models import Note, Score, Track, split_key, split_meter

TICKS_PER_BEAT = 480
# Glides are pitch-bend ramps: the bend range (RPN 0) is set to cover the widest glide of
# a track, at least an octave and at most two (larger glides are cut to two octaves), and
# the bend steps every _BEND_STEP_TICKS (a 48th of a beat).
MIN_BEND_RANGE = 12
MAX_BEND_RANGE = 24
_BEND_STEP_TICKS = 10
_BEND_MAX = 8191
DRUM_CHANNEL = 9
MELODIC_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)

_LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_SHIFT = {"": 0, "#": 1, "b": -1}
# Scale degree (0-based) of each church mode's tonic inside its parent major scale.
_MODE_DEGREE = {"major": 0, "dorian": 1, "phrygian": 2, "lydian": 3, "mixolydian": 4, "locrian": 6}
_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_FAMILY = ("minor", "harmonic minor", "melodic minor")
# mido accepts key signatures of at most seven sharps or flats.
_MIDO_MAJOR = frozenset(
    ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
)
_MIDO_MINOR = frozenset(
    m + "m" for m in ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#")
) | {"D#m", "A#m"}


def pitch_class(tonic: str) -> int:
    """Pitch class 0-11 of a spelled tonic such as "C#", "Eb" or "Cb"."""
    return (_LETTER_PC[tonic[0]] + _ACCIDENTAL_SHIFT[tonic[1:]]) % 12


def spell(letter: str, pc: int) -> str | None:
    """Spell pitch class `pc` on `letter` with at most one accidental, or None."""
    shift = (pc - _LETTER_PC[letter] + 6) % 12 - 6
    return {0: letter, 1: letter + "#", -1: letter + "b"}.get(shift)


def shift_tonic(tonic: str, letter_steps: int, semitones: int) -> tuple[str | None, int]:
    """Move a spelled tonic by letter steps and semitones ("A", +2, +3 -> "C"): the new
    spelling (None where it would need a double accidental) and its pitch class."""
    letter = _LETTERS[(_LETTERS.index(tonic[0]) + letter_steps) % 7]
    pc = (pitch_class(tonic) + semitones) % 12
    return spell(letter, pc), pc


def parent_major(tonic: str, mode: str) -> tuple[str | None, int]:
    """Tonic of the major scale a church mode is built on ("D", "dorian" -> "C")."""
    degree = _MODE_DEGREE[mode]
    return shift_tonic(tonic, -degree, -_MAJOR_STEPS[degree])


def key_signature_name(key: str) -> str:
    """mido key-signature name for a Score key: "A minor" -> "Am", "D dorian" -> "C".

    Church modes take their parent major scale's signature; the minor family
    (natural, harmonic, melodic) takes the minor signature of its tonic.
    Spelling follows the tonic's letter; a signature beyond seven
    accidentals is replaced by its enharmonic equivalent.
    """
    try:
        tonic, mode = split_key(key)
    except ValueError as exc:
        raise ParameterError(f"score key: {exc}") from exc
    if mode in MINOR_FAMILY:
        name, valid, suffix = tonic + "m", _MIDO_MINOR, "m"
        pc = pitch_class(tonic)
    else:
        spelled, pc = parent_major(tonic, mode)
        name, valid, suffix = (spelled or ""), _MIDO_MAJOR, ""
    if name in valid:
        return name
    for candidate in (spell(letter, pc) for letter in _LETTERS):
        if candidate is not None and candidate + suffix in valid:
            return candidate + suffix
    raise ParameterError(f"no key signature for {key!r}")  # unreachable for valid keys


def key_from_signature_name(name: str) -> str:
    """Soundstar key for a mido key-signature name: "F#m" -> "F# minor", "Bb" -> "Bb major"."""
    if name.endswith("m"):
        return f"{name[:-1]} minor"
    return f"{name} major"


def time_signature_message(meter: str) -> mido.MetaMessage:
    """`time_signature` meta message; the metronome clicks once per felt beat."""
    try:
        numerator, denominator = split_meter(meter)
    except ValueError as exc:
        raise ParameterError(f"score time signature: {exc}") from exc
    clocks_per_unit = 96 // denominator
    compound = denominator >= 8 and numerator % 3 == 0 and numerator > 3
    return mido.MetaMessage(
        "time_signature",
        numerator=numerator,
        denominator=denominator,
        clocks_per_click=clocks_per_unit * (3 if compound else 1),
        notated_32nd_notes_per_beat=8,
        time=0,
    )


def _ticks(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def _to_delta(events: Iterable[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0
    for tick, _order, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _conductor_track(score: Score) -> mido.MidiTrack:
    tempo_us = round(60_000_000 / score.tempo_bpm)
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("set_tempo", tempo=tempo_us)),
        (0, 1, time_signature_message(score.time_signature)),
        (0, 2, mido.MetaMessage("key_signature", key=key_signature_name(score.key))),
    ]
    for section in sorted(score.sections, key=lambda s: s.start_bar):
        tick = _ticks(section.start_bar * score.beats_per_bar)
        events.append((tick, 3, mido.MetaMessage("marker", text=section.name)))
    end = _ticks(score.total_beats)
    track = _to_delta(events)
    last = sum(msg.time for msg in track)
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - last)))
    return track


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    velocity: int


def _note_spans(track: Track) -> dict[int, list[_Span]]:
    """Per pitch, non-overlapping tick spans: notes starting together merge (longest,
    loudest); a note still sounding when the same pitch restarts is cut there."""
    by_pitch: dict[int, dict[int, _Span]] = defaultdict(dict)
    for note in track.notes:
        start = _ticks(note.start_beat)
        end = max(start + 1, _ticks(note.start_beat + note.duration_beats))
        previous = by_pitch[note.pitch].get(start)
        if previous is not None:
            end, velocity = max(end, previous.end), max(note.velocity, previous.velocity)
        else:
            velocity = note.velocity
        by_pitch[note.pitch][start] = _Span(start, end, velocity)
    spans: dict[int, list[_Span]] = {}
    for pitch, starts in by_pitch.items():
        ordered = [starts[s] for s in sorted(starts)]
        spans[pitch] = [
            _Span(span.start, min(span.end, ordered[i + 1].start), span.velocity)
            if i + 1 < len(ordered)
            else span
            for i, span in enumerate(ordered)
        ]
    return spans


def bend_range(track: Track) -> int | None:
    """The pitch-bend range (semitones) a track's glides need; None when none glides."""
    widest = max((abs(n.glide_semitones) for n in track.notes), default=0.0)
    if track.is_drum or widest == 0.0:
        return None
    return min(max(MIN_BEND_RANGE, math.ceil(widest)), MAX_BEND_RANGE)


def _bend_range_messages(channel: int, semitones: int) -> list[mido.Message]:
    """RPN 0 (pitch-bend sensitivity) set to `semitones`, then the null RPN, so a later
    data entry changes nothing."""
    return [
        mido.Message("control_change", channel=channel, control=control, value=value)
        for control, value in ((101, 0), (100, 0), (6, semitones), (38, 0), (101, 127), (100, 127))
    ]


def _glide_bends(note: Note, channel: int, semitones: int) -> list[tuple[int, mido.Message]]:
    """A note's glide as a pitch-bend ramp from its start (the bend that puts it at
    `glide_from`) back to the centre when the glide ends: (tick, message)."""
    start = _ticks(note.start_beat)
    length = max(_ticks(min(note.glide_beats, note.duration_beats)), 1)
    ticks = [*range(0, length, _BEND_STEP_TICKS), length]
    bends: list[tuple[int, mido.Message]] = []
    for tick in ticks:
        offset = note.glide_semitones * (1.0 - tick / length) / semitones
        value = int(max(-_BEND_MAX - 1, min(_BEND_MAX, round(offset * (_BEND_MAX + 1)))))
        if not bends or bends[-1][1].pitch != value:
            bends.append((start + tick, mido.Message("pitchwheel", channel=channel, pitch=value)))
    return bends


def _part_track(track: Track, channel: int) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=track.name)),
    ]
    if not track.is_drum:
        program = mido.Message("program_change", channel=channel, program=track.program)
        events.append((0, 1, program))
    semitones = bend_range(track)
    if semitones is not None:
        events += [(0, 1, m) for m in _bend_range_messages(channel, semitones)]
        for note in track.notes:
            if note.glide_from is not None:
                events += [(t, 2, m) for t, m in _glide_bends(note, channel, semitones)]
    for pitch, spans in _note_spans(track).items():
        for span in spans:
            on = mido.Message("note_on", channel=channel, note=pitch, velocity=span.velocity)
            off = mido.Message("note_off", channel=channel, note=pitch, velocity=0)
            events.append((span.start, 3, on))
            events.append((span.end, 2, off))
    midi_track = _to_delta(events)
    midi_track.append(mido.MetaMessage("end_of_track", time=0))
    return midi_track


def assign_channels(tracks: list[Track]) -> list[int]:
    """MIDI channel (0-based) per track: drums on 9, each other track its own channel.

    With more than fifteen melodic tracks, a track shares a channel only with
    an earlier track of the same program; otherwise ParameterError.
    """
    channels: list[int] = []
    program_channel: dict[int, int] = {}
    free = list(MELODIC_CHANNELS)
    for track in tracks:
        if track.is_drum:
            channels.append(DRUM_CHANNEL)
            continue
        if free:
            channel = free.pop(0)
            program_channel.setdefault(track.program, channel)
        elif track.program in program_channel:
            channel = program_channel[track.program]
        else:
            raise ParameterError(
                f"too many melodic tracks with distinct programs for 15 MIDI channels "
                f"(track {track.name!r}, program {track.program})"
            )
        channels.append(channel)
    return channels


def score_to_midi(score: Score) -> mido.MidiFile:
    """Build the type-1 MIDI file (480 ticks per quarter note) for `score`."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor_track(score))
    for track, channel in zip(score.tracks, assign_channels(score.tracks), strict=True):
        midi.tracks.append(_part_track(track, channel))
    return midi


def write_midi(path: Path, score: Score) -> Path:
    """Write `score` as a standard MIDI file at `path`, atomically; returns the path."""
    path = Path(path)
    if path.suffix.lower() not in (".mid", ".midi", ""):
        raise ParameterError(f"MIDI file name {path.name!r} should end in .mid")
    midi = score_to_midi(score)
    with atomic_output(path) as tmp:
        midi.save(filename=str(tmp))
    return path


def _load(path: Path) -> mido.MidiFile:
    try:
        return mido.MidiFile(filename=str(path))
    except FileNotFoundError as exc:
        raise NotFoundError(f"MIDI file {str(path)!r} does not exist") from exc
    except (OSError, EOFError, ValueError, KeyError) as exc:
        raise ParameterError(f"{str(path)!r} is not a readable MIDI file: {exc}") from exc


MidiNote = tuple[int, int, float, float, int]
"""(channel, pitch, start_beat, duration_beats, velocity)"""


def read_midi_notes(path: Path) -> dict[str, list[MidiNote]]:
    """Notes per track (keyed by track name, else "track <index>"), sorted by pitch then start."""
    midi = _load(Path(path))
    result: dict[str, list[MidiNote]] = {}
    for index, track in enumerate(midi.tracks):
        name, notes = _track_notes(track, midi.ticks_per_beat)
        if notes:
            key = name if name is not None and name not in result else f"track {index}"
            result[key] = sorted(notes, key=lambda n: (n[1], n[2], n[0]))
    return result


def _track_notes(track: mido.MidiTrack, ticks_per_beat: int) -> tuple[str | None, list[MidiNote]]:
    name: str | None = None
    sounding: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    notes: list[MidiNote] = []
    now = 0
    for message in track:
        now += message.time
        if message.type == "track_name" and name is None:
            name = message.name
        elif message.type == "note_on" and message.velocity > 0:
            sounding[(message.channel, message.note)].append((now, message.velocity))
        elif message.type in ("note_off", "note_on"):
            starts = sounding.get((message.channel, message.note))
            if starts:
                start, velocity = starts.pop(0)
                notes.append(
                    (
                        message.channel,
                        message.note,
                        start / ticks_per_beat,
                        (now - start) / ticks_per_beat,
                        velocity,
                    )
                )
    return name, notes


def midi_to_summary(path: Path) -> dict[str, Any]:
    """Plain facts about a MIDI file: tempo, meter, key, markers, and per track the
    name, channel, program and note count."""
    midi = _load(Path(path))
    summary: dict[str, Any] = {
        "type": midi.type,
        "ticks_per_beat": midi.ticks_per_beat,
        "length_s": float(midi.length),
        "tempo_bpm": None,
        "time_signature": None,
        "key_signature": None,
        "key": None,
        "markers": [],
        "tracks": [],
    }
    for track in midi.tracks:
        now = 0
        info: dict[str, Any] = {"name": None, "channel": None, "program": None, "note_count": 0}
        for message in track:
            now += message.time
            if message.type == "set_tempo" and summary["tempo_bpm"] is None:
                summary["tempo_bpm"] = 60_000_000 / message.tempo
            elif message.type == "time_signature" and summary["time_signature"] is None:
                summary["time_signature"] = f"{message.numerator}/{message.denominator}"
            elif message.type == "key_signature" and summary["key_signature"] is None:
                summary["key_signature"] = message.key
                summary["key"] = key_from_signature_name(message.key)
            elif message.type == "marker":
                summary["markers"].append((message.text, now / midi.ticks_per_beat))
            elif message.type == "track_name" and info["name"] is None:
                info["name"] = message.name
            elif message.type == "program_change" and info["program"] is None:
                info["program"] = message.program
            elif message.type == "note_on" and message.velocity > 0:
                info["note_count"] += 1
                info["channel"] = message.channel
        if info["name"] is not None or info["note_count"]:
            summary["tracks"].append(info)
    summary["track_names"] = [t["name"] for t in summary["tracks"]]
    summary["programs"] = {t["name"]: t["program"] for t in summary["tracks"]}
    summary["note_counts"] = {t["name"]: t["note_count"] for t in summary["tracks"]}
    return summary
