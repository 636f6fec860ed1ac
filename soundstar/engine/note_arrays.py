"""A part's notes as the arrays every note renderer takes (ddsp, the sampler, drums), in
seconds: one conversion for the whole render and for a bar played live."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from soundstar.models import Note

NoteArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Per note: pitch (MIDI), onset (s), held duration (s), velocity in [0, 1]."""
Glides = tuple[np.ndarray, np.ndarray]
"""Per note: where its pitch starts (semitones from it) and how long its glide takes (s);
0 and 0 for a note that does not glide."""


def note_arrays(notes: Sequence[Note], seconds_per_beat: float) -> NoteArrays:
    """The notes' pitch, onset, duration and velocity arrays (float64)."""
    pitch = np.array([n.pitch for n in notes], dtype=np.float64)
    onset = np.array([n.start_beat for n in notes], dtype=np.float64) * seconds_per_beat
    duration = np.array([n.duration_beats for n in notes], dtype=np.float64) * seconds_per_beat
    velocity = np.array([n.velocity for n in notes], dtype=np.float64) / 127.0
    return pitch, onset, duration, velocity


def glide_arrays(notes: Sequence[Note], seconds_per_beat: float) -> Glides | None:
    """The notes' glides beside `note_arrays`; None when no note glides."""
    if all(n.glide_from is None for n in notes):
        return None
    semitones = np.array([n.glide_semitones for n in notes], dtype=np.float64)
    seconds = np.array([min(n.glide_beats, n.duration_beats) for n in notes], dtype=np.float64)
    return semitones, seconds * seconds_per_beat
