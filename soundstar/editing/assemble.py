"""A project's score: each section's notes taken from its composition composed with its
seed, and excerpts of a score (whole bars) for rendering only where an edit changed it."""

from __future__ import annotations

from soundstar.engine.composer import compose
from soundstar.errors import ParameterError
from soundstar.models import ChordEvent, Note, Score, ScoreSection, Track
from soundstar.project import Project

_EPS = 1e-9


def _in_span(start: float, lo: float, hi: float) -> bool:
    return lo - _EPS <= start < hi - _EPS


def project_score(project: Project) -> Score:
    """The piece the project describes: composed once per (composition, seed) in use,
    each section's notes and chords from its own seed's score, placed at its bars."""
    params = project.parameters
    composed: dict[tuple[int, int], Score] = {}
    first: Score | None = None
    tracks: list[list[Note]] = []
    chords: list[ChordEvent] = []
    for number, section in enumerate(project.sections):
        comp = project.compositions[section.composition]
        key = (section.composition, section.seed)
        if key not in composed:
            composed[key] = compose(
                params.model_copy(update={"duration_seconds": comp.duration_seconds}),
                comp.plan,
                seed=section.seed,
            )
        score = composed[key]
        if first is None:
            first, tracks = score, [[] for _ in score.tracks]
        if len(score.tracks) != len(tracks):
            raise ParameterError(
                f"section {number + 1}'s composition has another lineup", field="project"
            )
        bpb = score.beats_per_bar
        local_end = section.end_bar - comp.start_bar
        last_of_comp = local_end >= max(s.end_bar for s in score.sections)
        lo = (section.start_bar - comp.start_bar) * bpb
        hi = float("inf") if last_of_comp else local_end * bpb
        shift = comp.start_bar * bpb
        for notes, track in zip(tracks, score.tracks, strict=True):
            notes.extend(
                n.model_copy(update={"start_beat": n.start_beat + shift})
                for n in track.notes
                if _in_span(n.start_beat, lo, hi)
            )
        chords.extend(
            c.model_copy(update={"start_beat": c.start_beat + shift})
            for c in score.chords
            if _in_span(c.start_beat, lo, hi)
        )
    assert first is not None  # a project has at least one section
    return first.model_copy(
        update={
            "total_beats": project.duration_seconds * params.tempo_bpm / 60.0,
            "sections": [
                ScoreSection(
                    name=s.name,
                    start_bar=s.start_bar,
                    end_bar=s.end_bar,
                    energy_level=s.energy_level,
                )
                for s in project.sections
            ],
            "chords": chords,
            "tracks": [
                Track(**{**t.model_dump(exclude={"notes"}), "notes": notes})
                for t, notes in zip(first.tracks, tracks, strict=True)
            ],
        }
    )


def _clip(start: float, length: float, lo: float, hi: float) -> tuple[float, float] | None:
    """(start, length) of [start, start + length) inside [lo, hi), from lo; None if outside."""
    a, b = max(start, lo), min(start + length, hi)
    return (a - lo, b - a) if b - a > _EPS and start < hi - _EPS else None


def excerpt(score: Score, start_bar: int, end_bar: int) -> Score:
    """Bars [start_bar, end_bar) of `score` as a score of their own; notes sounding at the
    start begin there, notes still sounding at the end are cut when it ends."""
    bpb = score.beats_per_bar
    n_bars = max(s.end_bar for s in score.sections)
    lo = start_bar * bpb
    hi = score.total_beats if end_bar >= n_bars else end_bar * bpb
    tracks = []
    for track in score.tracks:
        notes = []
        for n in track.notes:
            if (span := _clip(n.start_beat, n.duration_beats, lo, hi)) is not None:
                start = span[0] if n.start_beat >= lo else 0.0
                length = n.duration_beats if n.start_beat >= lo else span[1]
                notes.append(
                    n.retimed(start_beat=start, duration_beats=length, glide=n.start_beat >= lo)
                )
        tracks.append(track.model_copy(update={"notes": notes}))
    chords = [
        c.model_copy(update={"start_beat": span[0], "duration_beats": span[1]})
        for c in score.chords
        if (span := _clip(c.start_beat, c.duration_beats, lo, hi)) is not None
    ]
    sections = [
        ScoreSection(
            name=s.name,
            start_bar=max(s.start_bar, start_bar) - start_bar,
            end_bar=min(s.end_bar, end_bar) - start_bar,
            energy_level=s.energy_level,
        )
        for s in score.sections
        if s.start_bar < end_bar and s.end_bar > start_bar
    ]
    return score.model_copy(
        update={"total_beats": hi - lo, "sections": sections, "chords": chords, "tracks": tracks}
    )
