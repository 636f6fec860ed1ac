"""How two melody instruments sound together, on the scores of every eval prompt that names two.

For each prompt of shared/eval/prompts.jsonl and the 100 MusicBench captions (seed = its
index, as benchmarks.adherence): compose, then for every melody instrument after the
first, sample both parts on a 32nd-note grid and count, over the time both sound, the
share of harsh intervals (minor second, tritone, major seventh and their octaves), of
mild ones (major second, minor seventh), and the share of the time either sounds in
which both do. The reference, in the same run, is the same lineup with every melody
instrument playing a melody of its own, as the composer wrote before partners.
Writes benchmarks/results/arrangement.json.
Run: .venv/bin/python -m benchmarks.arrangement
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.common import eval_dir, read_jsonl, write_results
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import build_timeline, compose
from soundstar.engine.composer.melody import write_melody
from soundstar.knowledge import load_knowledge
from soundstar.models import MusicalParameters, Note, Role, StructuralPlan
from soundstar.theory import key_scale, pitch_class

GRID = 0.125  # beats
HARSH = (1, 6, 11)
MILD = (2, 10)


def sounding(notes: list[Note], total_beats: float) -> np.ndarray:
    """The highest pitch sounding at every grid step (-1 where none does)."""
    grid = np.full(int(total_beats / GRID) + 1, -1, dtype=np.int64)
    for note in notes:
        a = round(note.start_beat / GRID)
        b = round((note.start_beat + note.duration_beats) / GRID)
        grid[a:b] = np.maximum(grid[a:b], note.pitch)
    return grid


def pair_counts(lead: list[Note], other: list[Note], total_beats: float) -> dict[str, int]:
    """Grid steps where either part sounds, where both do, and where both do a harsh or a
    mild interval apart."""
    a, b = sounding(lead, total_beats), sounding(other, total_beats)
    both = (a >= 0) & (b >= 0)
    interval = np.abs(a - b) % 12
    return {
        "either": int(((a >= 0) | (b >= 0)).sum()),
        "both": int(both.sum()),
        "harsh": int((both & np.isin(interval, HARSH)).sum()),
        "mild": int((both & np.isin(interval, MILD)).sum()),
    }


def _own_melodies(
    params: MusicalParameters, plan: StructuralPlan, seed: int
) -> list[tuple[str, list[Note]]]:
    """(instrument, part) of every melody instrument, each part a melody of its own (the reference): the composer's
    generator for the part, (seed, index in the lineup), drawn by `write_melody`."""
    kb = load_knowledge()
    timeline = build_timeline(params, plan)
    scale = key_scale(params.key)
    parts = []
    for index, spec in enumerate(params.instrumentation):
        inst = kb.instruments.get(spec.name) or kb.find_instrument(spec.name)
        if spec.role != Role.LEAD or inst is None or inst.drum:
            continue
        if kb.articulation(spec.descriptor).style == "arpeggio":
            continue
        rng = np.random.default_rng([seed, index])
        register = (inst.register[0], inst.register[1])
        notes = write_melody(timeline, register, scale, pitch_class(params.tonic), rng)
        parts.append((inst.id, [n for n in notes if n.start_beat < timeline.total_beats]))
    return parts


def _rates(counts: list[dict[str, int]]) -> dict[str, float | None]:
    total = {k: sum(c[k] for c in counts) for k in ("either", "both", "harsh", "mild")}
    both = total["both"] or None
    return {
        "harsh_share_of_time_together": round(total["harsh"] / both, 4) if both else None,
        "mild_share_of_time_together": round(total["mild"] / both, 4) if both else None,
        "time_together": round(total["both"] / total["either"], 3) if total["either"] else None,
    }


def main() -> None:
    data = eval_dir()
    prompts = [(r["id"], r["prompt"]) for r in read_jsonl(data / "prompts.jsonl")] + [
        (r["id"], r["caption"]) for r in read_jsonl(data / "external" / "musicbench_test100.jsonl")
    ]
    aurora = Aurora()
    composed: list[dict[str, int]] = []
    reference: list[dict[str, int]] = []
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed, (pid, prompt) in enumerate(prompts):
        u = aurora.understand(prompt, duration_seconds=30.0, check_length=False)
        score = compose(u.parameters, u.plan, seed=seed)
        own = _own_melodies(u.parameters, u.plan, seed)
        if len(own) < 2:
            continue
        melodic = {iid for iid, _ in own}
        leads = [t for t in score.tracks if t.role == Role.LEAD and t.instrument in melodic]
        for partner, (_, alone) in zip(leads[1:], own[1:], strict=True):
            now = pair_counts(leads[0].notes, partner.notes, score.total_beats)
            before = pair_counts(own[0][1], alone, score.total_beats)
            composed.append(now)
            reference.append(before)
            rows.append(
                {
                    "id": pid,
                    "lead": leads[0].instrument,
                    "partner": partner.instrument,
                    "harsh": round(now["harsh"] / max(1, now["both"]), 3),
                    "harsh_own_melodies": round(before["harsh"] / max(1, before["both"]), 3),
                }
            )
    path = write_results(
        "arrangement",
        {
            "prompts": len(prompts),
            "pairs_of_melody_instruments": len(rows),
            "prompts_with_two_or_more": len({r["id"] for r in rows}),
            "partners": _rates(composed),
            "reference_own_melodies": _rates(reference),
            "per_pair": rows,
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
