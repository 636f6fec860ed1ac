"""Loops: a whole number of bars at the exact tempo, played as one section.

The one reading of how long a loop is and what it plays, shared by the CLI, the service and
the pipeline; the engine wraps the tails (see `engine.loop`).
"""

from __future__ import annotations

from soundstar.errors import ParameterError
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    MusicalParameters,
    PlanSection,
    Score,
    StructuralPlan,
    split_meter,
)

LOOP_BARS_DEFAULT = 8
LOOP_BARS_MAX = 256
LOOP_SECTION = "loop"


def loop_seconds(bars: int, time_signature: str, tempo_bpm: float) -> float:
    """Seconds `bars` whole bars last at `tempo_bpm` in `time_signature`."""
    num, den = split_meter(time_signature)
    return bars * num * 4.0 / den * 60.0 / tempo_bpm


def loop_samples(bars: int, time_signature: str, tempo_bpm: float, sample_rate: int) -> int:
    """Samples the loop holds: its exact length in seconds times the rate, rounded once."""
    return round(loop_seconds(bars, time_signature, tempo_bpm) * sample_rate)


def check_loop_bars(bars: int) -> int:
    """`bars` when it is a loop length this service makes; a ParameterError otherwise."""
    if not 1 <= bars <= LOOP_BARS_MAX:
        raise ParameterError(f"a loop is 1 to {LOOP_BARS_MAX} bars, got {bars}", field="loop_bars")
    return bars


def loop_parameters(params: MusicalParameters, bars: int) -> MusicalParameters:
    """`params` lasting exactly `bars` bars; a ParameterError naming the bounds when those
    bars are shorter or longer than a piece may be."""
    seconds = loop_seconds(check_loop_bars(bars), params.time_signature, params.tempo_bpm)
    if not DURATION_MIN_S <= seconds <= DURATION_MAX_S:
        raise ParameterError(
            f"{bars} bars of {params.time_signature} at {params.tempo_bpm:g} BPM last "
            f"{seconds:.2f} s; a loop lasts {DURATION_MIN_S:g} to {DURATION_MAX_S:g} s, "
            "so ask for more or fewer bars",
            field="loop_bars",
        )
    return params.model_copy(update={"duration_seconds": seconds})


def loop_plan(plan: StructuralPlan, params: MusicalParameters) -> StructuralPlan:
    """The plan of a loop: one section at the piece's energy with the plan's harmony, so
    the end sounds like the start and nothing builds or fades across the seam."""
    return StructuralPlan(
        structure_type=LOOP_SECTION,
        sections=[
            PlanSection(
                name=LOOP_SECTION,
                duration_ratio=1.0,
                energy_level=params.energy_level,
                description="one section that repeats without a seam",
            )
        ],
        transitions=[],
        chord_progression=plan.chord_progression,
    )


def loop_tags(score: Score) -> dict[str, str]:
    """The metadata a loop's audio file carries (RIFF INFO, Vorbis comments, ID3): its tempo,
    meter and bars, so a sampler or DAW can place it on the grid."""
    bars = round(score.total_beats / score.beats_per_bar)
    tempo = f"{score.tempo_bpm:g}"
    return {
        "title": f"soundstar loop {tempo}bpm",
        "comment": f"loop; tempo={tempo} bpm; meter={score.time_signature}; bars={bars}; "
        f"key={score.key}",
    }


def loop_file_name(stem: str, tempo_bpm: float, suffix: str) -> str:
    """A download name that says the loop's tempo: `stem_120bpm.wav`."""
    return f"{stem}_{tempo_bpm:g}bpm.{suffix}"
