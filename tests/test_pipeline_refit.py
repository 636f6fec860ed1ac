"""The pipeline never renders a plan in one key over parameters in another, and the
plan it returns is the plan played."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstar.models import ChordProgression, PlanSection, StructuralPlan
from soundstar.pipeline import GenerateRequest, generate

PROMPT = "a calm pop song with piano and bass in C major at 120 bpm"


def _request(tmp_path: Path, **fields: object) -> GenerateRequest:
    base: dict[str, object] = {
        "prompt": PROMPT,
        "output_path": tmp_path / "out.wav",
        "duration_seconds": 8,
        "sample_rate": 22050,
        "seed": 5,
    }
    return GenerateRequest.model_validate({**base, **fields})


@pytest.mark.parametrize("key", ["A minor", "Eb major", "D dorian"])
def test_a_plan_sent_in_another_key_is_played_in_the_parameters_key(
    tmp_path: Path, key: str
) -> None:
    first = generate(_request(tmp_path))
    assert first.parameters is not None and first.plan is not None
    params = first.parameters.model_copy(update={"key": key})
    result = generate(_request(tmp_path, parameters=params, plan=first.plan))
    assert result.plan is not None
    tonic, mode = key.split()
    assert (result.plan.chord_progression.key, result.plan.chord_progression.mode) == (tonic, mode)
    assert any("refitted" in n.message for n in result.notices)


def test_a_plan_with_more_sections_than_bars_is_merged_and_played_in_whole_bars(
    tmp_path: Path,
) -> None:
    names = ["intro", "verse", "chorus", "verse 2", "chorus 2", "outro"]
    plan = StructuralPlan(
        structure_type="long",
        sections=[
            PlanSection(name=n, duration_ratio=1 / 6, energy_level=0.5 + i / 20)
            for i, n in enumerate(names)
        ],
        chord_progression=ChordProgression(key="C", mode="major", chords=["C", "F", "G", "C"]),
    )
    result = generate(_request(tmp_path, plan=plan))  # 8 s at 120 BPM: 4 bars
    assert result.plan is not None
    bars = [s.duration_ratio * 4 for s in result.plan.sections]
    assert 1 <= len(bars) <= 2
    assert all(abs(b - round(b)) < 1e-9 and round(b) >= 2 for b in bars)
    assert {s.name for s in result.plan.sections} <= set(names)
    assert len(result.plan.chord_progression.chords) == 4
    assert any("merged" in n.message for n in result.notices)


@pytest.mark.parametrize(
    "prompt",
    ["a calm pop song with piano and bass", "a jazz trio with piano, upright bass and drums"],
)
def test_the_plan_returned_and_sent_back_plays_the_same_bars_and_chords(
    tmp_path: Path, prompt: str
) -> None:
    fields: dict[str, object] = {"prompt": prompt, "duration_seconds": 20}
    first = generate(_request(tmp_path, **{**fields, "output_path": tmp_path / "a.wav"}))
    again = generate(
        _request(
            tmp_path,
            **fields,
            parameters=first.parameters,
            plan=first.plan,
        )
    )
    assert first.plan is not None and again.plan is not None
    assert again.plan.chord_progression.chords == first.plan.chord_progression.chords
    assert again.plan.sections == first.plan.sections
