"""A plan made to fit its parameters, and a plan restated as it was played.

A plan sent with parameters it no longer fits (another key or mode, a duration or
meter that holds fewer bars) is refitted rather than rendered as it is: its sections
keep their names and energies and become whole bars of the new length, and its
chords move into the new key by scale degree. Pure functions, pydantic in and out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from soundstar import sections
from soundstar.models import (
    ChordProgression,
    MusicalParameters,
    Notice,
    PlanSection,
    Score,
    StructuralPlan,
    split_key,
)
from soundstar.sections import MIN_SECTION_BARS
from soundstar.theory import MODE_INTERVALS, note_name, parse_chord, pitch_class, uses_flats

# What a chord quality becomes when the diatonic triad under it changes kind
# (major <-> minor <-> diminished); dominant and suspended colours are kept as written.
_RECOLOUR: dict[tuple[str, str], dict[str, str]] = {
    ("major", "minor"): {"": "m", "maj7": "m7", "6": "m6", "add9": "madd9", "maj9": "m9"},
    ("minor", "major"): {"m": "", "m7": "maj7", "m6": "6", "madd9": "add9", "m9": "maj9"},
    ("major", "dim"): {"": "dim", "maj7": "m7b5"},
    ("minor", "dim"): {"m": "dim", "m7": "m7b5"},
    ("dim", "minor"): {"dim": "m", "m7b5": "m7"},
    ("dim", "major"): {"dim": "", "m7b5": "maj7"},
}


class Refit(BaseModel):
    """A plan that fits its parameters and, when it had to change, why."""

    model_config = ConfigDict(extra="forbid")

    plan: StructuralPlan
    notice: Notice | None = None


def bars_in(params: MusicalParameters) -> int:
    """Whole bars the parameters' duration holds at their tempo and meter."""
    return sections.bars_in(params.time_signature, params.tempo_bpm, params.duration_seconds)


def _laid(planned: list[PlanSection], n_bars: int) -> list[PlanSection]:
    fitted, sizes = sections.fit_sections(
        [(s.name, s.duration_ratio, s.energy_level) for s in planned], n_bars
    )
    by_name = {s.name: s for s in reversed(planned)}
    return [
        by_name[name].model_copy(update={"duration_ratio": size / n_bars, "energy_level": energy})
        for (name, _, energy), size in zip(fitted, sizes, strict=True)
    ]


def in_whole_bars(planned: list[PlanSection], n_bars: int) -> list[PlanSection]:
    """Sections laid onto n_bars by the composer's own rule (the smallest merged into a
    neighbour, which keeps its name and energy, until each has MIN_SECTION_BARS), every
    ratio a whole number of bars over n_bars. The rule snaps boundaries to 4- and 2-bar
    phrases, so it is applied until the bars it gives are the bars it keeps: the bars
    the plan states are the bars the composer plays."""
    laid = _laid(planned, n_bars)
    for _ in range(len(planned) + 2):
        again = _laid(laid, n_bars)
        if again == laid:
            break
        laid = again
    return laid


def _kind(intervals: tuple[int, ...]) -> str | None:
    if 4 in intervals and 7 in intervals:
        return "major"
    if 3 in intervals and 7 in intervals:
        return "minor"
    if 3 in intervals and 6 in intervals:
        return "dim"
    return None


def _triad_kind(scale: tuple[int, ...], degree: int) -> str | None:
    root = scale[degree]
    third = (scale[(degree + 2) % 7] - root) % 12
    fifth = (scale[(degree + 4) % 7] - root) % 12
    return _kind((0, third, fifth))


def _move_pc(pc: int, old: tuple[int, str], new: tuple[int, str]) -> tuple[int, int | None]:
    """A pitch class moved from one key to another: by scale degree when it is in the
    old scale (returning the degree), else by its interval from the tonic."""
    interval = (pc - old[0]) % 12
    old_scale = MODE_INTERVALS[old[1]]
    if interval in old_scale:
        degree = old_scale.index(interval)
        return (new[0] + MODE_INTERVALS[new[1]][degree]) % 12, degree
    return (new[0] + interval) % 12, None


def move_chord(symbol: str, old_key: str, new_key: str) -> str:
    """A chord symbol rewritten into another key by scale degree: IV stays IV, and a
    diatonic chord takes the quality of its degree in the new mode (C -> Cm for I
    from C major to C minor); a chord outside the old scale keeps its interval."""
    old_tonic, old_mode = split_key(old_key)
    new_tonic, new_mode = split_key(new_key)
    old = (pitch_class(old_tonic), old_mode)
    new = (pitch_class(new_tonic), new_mode)
    chord = parse_chord(symbol)
    root, degree = _move_pc(chord.root_pc, old, new)
    quality = chord.quality
    if degree is not None:
        was = _triad_kind(MODE_INTERVALS[old_mode], degree)
        becomes = _triad_kind(MODE_INTERVALS[new_mode], degree)
        if was is not None and becomes is not None and _kind(chord.intervals) == was:
            quality = _RECOLOUR.get((was, becomes), {}).get(quality, quality)
    flats = uses_flats(new_tonic, new_mode)
    text = note_name(root, flats=flats) + quality
    if chord.bass_pc != chord.root_pc:
        text += "/" + note_name(_move_pc(chord.bass_pc, old, new)[0], flats=flats)
    return text


def _in_key(plan: StructuralPlan, key: str) -> StructuralPlan:
    old = f"{plan.chord_progression.key} {plan.chord_progression.mode}"
    tonic, mode = split_key(key)
    return plan.model_copy(
        update={
            "chord_progression": ChordProgression(
                key=tonic,
                mode=mode,
                chords=[move_chord(c, old, key) for c in plan.chord_progression.chords],
            ),
            "sections": [
                s.model_copy(update={"chords": [move_chord(c, old, key) for c in s.chords]})
                if s.chords
                else s
                for s in plan.sections
            ],
        }
    )


def refit(params: MusicalParameters, plan: StructuralPlan) -> Refit:
    """The plan made to fit the parameters' key, mode, duration and meter, with a
    notice of what changed; a plan that fits is returned as it is."""
    changes: list[str] = []
    tonic, mode = split_key(params.key)
    planned_key = f"{plan.chord_progression.key} {plan.chord_progression.mode}"
    out = plan
    if (pitch_class(tonic), mode) != (
        pitch_class(plan.chord_progression.key),
        plan.chord_progression.mode,
    ):
        out = _in_key(out, params.key)
        changes.append(f"its chords moved from {planned_key} to {params.key} by scale degree")
    n_bars = bars_in(params)
    laid = in_whole_bars(list(out.sections), n_bars)
    kept = {s.name for s in laid}
    dropped = [s.name for s in out.sections if s.name not in kept]
    if dropped:
        out = out.model_copy(
            update={
                "sections": laid,
                "transitions": [t for t in out.transitions if t.from_ in kept and t.to in kept],
            }
        )
        changes.append(
            f"{n_bars} bars of {params.time_signature} at {params.tempo_bpm:g} BPM hold "
            f"{len(laid)} sections of at least {MIN_SECTION_BARS} bars, so "
            + ", ".join(repr(name) for name in dropped)
            + " merged into their neighbours"
        )
    if not changes:
        return Refit(plan=plan)
    return Refit(
        plan=out,
        notice=Notice(
            level="warning",
            message="the plan sent did not fit the parameters and was refitted: "
            + "; ".join(changes),
        ),
    )


def as_played(plan: StructuralPlan, score: Score) -> StructuralPlan:
    """The plan restated as the score plays it: its sections in the whole bars they
    were given (a section too short to play is gone) and the chords bar by bar, in
    the order heard, so the plan shown is the music heard."""
    n_bars = max(s.end_bar for s in score.sections)
    by_name = {s.name: s for s in plan.sections}
    sections = [
        PlanSection(
            name=s.name,
            duration_ratio=(s.end_bar - s.start_bar) / n_bars,
            energy_level=s.energy_level,
            description=by_name[s.name].description if s.name in by_name else "",
        )
        for s in score.sections
    ]
    names = {s.name for s in sections}
    chords = [c.symbol for c in sorted(score.chords, key=lambda c: c.start_beat)]
    return plan.model_copy(
        update={
            "sections": sections,
            "transitions": [t for t in plan.transitions if t.from_ in names and t.to in names],
            "chord_progression": plan.chord_progression.model_copy(
                update={"chords": chords or plan.chord_progression.chords}
            ),
        }
    )
