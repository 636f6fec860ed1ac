"""The bars a live session played as a standard MIDI file, with its tempo map.

The parts are written as `audio.midi` writes a Score's; the conductor track carries a
tempo, meter or key signature event at each bar where one changed, and a marker where a
section began.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mido

from soundstar.audio.export import atomic_output
from soundstar.audio.midi import (
    TICKS_PER_BEAT,
    key_signature_name,
    score_to_midi,
    time_signature_message,
)
from soundstar.live.session import LiveBlock
from soundstar.models import Score, ScoreSection, Track


def _score(blocks: Sequence[LiveBlock]) -> Score:
    """The played bars as one Score (beats from the start; the first bar's tempo)."""
    tracks: dict[str, Track] = {}
    beat = 0.0
    for block in blocks:
        for played in block.tracks:
            track = tracks.setdefault(
                played.name,
                Track(name=played.name, instrument=played.instrument, role=played.role,
                      program=played.program, is_drum=played.is_drum),
            )  # fmt: skip
            track.notes.extend(n.retimed(start_beat=beat + n.start_beat) for n in played.notes)
        beat += block.beats
    first = blocks[0]
    return Score(
        tempo_bpm=first.tempo_bpm, time_signature=first.time_signature, key=first.key,
        total_beats=beat,
        sections=[ScoreSection(name=first.section, start_bar=0, end_bar=len(blocks),
                               energy_level=first.energy)],
        chords=[], tracks=list(tracks.values()),
    )  # fmt: skip


def _conductor(blocks: Sequence[LiveBlock]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    last_tick = 0
    beat = 0.0
    previous: LiveBlock | None = None
    for block in blocks:
        events: list[mido.MetaMessage] = []
        if previous is None or block.tempo_bpm != previous.tempo_bpm:
            events.append(mido.MetaMessage("set_tempo", tempo=round(60_000_000 / block.tempo_bpm)))
        if previous is None or block.time_signature != previous.time_signature:
            events.append(time_signature_message(block.time_signature))
        if previous is None or block.key != previous.key:
            events.append(mido.MetaMessage("key_signature", key=key_signature_name(block.key)))
        if previous is None or block.section != previous.section:
            events.append(mido.MetaMessage("marker", text=block.section))
        tick = round(beat * TICKS_PER_BEAT)
        for message in events:
            track.append(message.copy(time=tick - last_tick))
            last_tick = tick
        beat += block.beats
        previous = block
    track.append(
        mido.MetaMessage("end_of_track", time=max(0, round(beat * TICKS_PER_BEAT) - last_tick))
    )
    return track


def write_live_midi(path: Path, blocks: Sequence[LiveBlock]) -> Path:
    """Write the played `blocks` (at least one) as a type-1 MIDI file, atomically."""
    midi = score_to_midi(_score(blocks))
    midi.tracks[0] = _conductor(blocks)
    with atomic_output(Path(path)) as tmp:
        midi.save(filename=str(tmp))
    return Path(path)
