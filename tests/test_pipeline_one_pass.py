"""One pass through the pipeline: a stage whose answer the person gave does not run, and
no embedding is computed that nothing uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from soundstar import pipeline
from soundstar.aurora.pipeline import Aurora
from soundstar.encoder import embedding as encoder
from soundstar.engine.options import EngineOptions
from soundstar.errors import ContentPolicyError, InvalidPromptError
from soundstar.models import MusicalParameters, StructuralPlan

PROMPT = "a calm piano and strings piece in e minor"
DDSP_ONLY = EngineOptions()


class _Refusing(Aurora):
    """Aurora that fails the test if it is asked for a stage named in `refused`."""

    def __init__(self, *refused: str) -> None:
        super().__init__()
        self.refused = set(refused)

    def understand(self, prompt: str, **kwargs: Any) -> Any:
        assert "understand" not in self.refused, "understood words the person overrode"
        return super().understand(prompt, **kwargs)

    def plan(self, params: MusicalParameters) -> Any:
        assert "plan" not in self.refused, "planned although a plan was given"
        return super().plan(params)


@pytest.fixture(scope="module")
def understood() -> tuple[MusicalParameters, StructuralPlan]:
    u = Aurora().understand("a lively funk groove with slap bass and horns", duration_seconds=6)
    return u.parameters, u.plan


def _generate(tmp_path: Path, aurora: Aurora, **fields: Any) -> Any:
    request = pipeline.GenerateRequest(
        prompt=PROMPT, output_path=tmp_path / "out.wav", seed=3, **fields
    )
    return pipeline.generate(request, aurora=aurora, engine=DDSP_ONLY)


@pytest.fixture
def no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an embedding was computed that nothing uses")

    monkeypatch.setattr(encoder, "encode", refuse)


def test_given_parameters_are_planned_but_not_parsed(
    tmp_path: Path,
    understood: tuple[MusicalParameters, StructuralPlan],
    no_encoder: None,
) -> None:
    params, _ = understood
    result = _generate(tmp_path, _Refusing("understand"), parameters=params, duration_seconds=5)
    assert result.parameters == params.model_copy(update={"duration_seconds": 5})
    assert result.parsed_parameters is None
    assert result.stages_run[:2] == ["preprocess", "plan"]
    assert {"enhance", "parse", "map", "embed"} <= result.stages_skipped.keys()
    assert result.implementations == {"structural_planner": result.implementation_used}
    assert result.plan.sections and (tmp_path / "out.wav").stat().st_size > 0


def _followed(played: StructuralPlan | None, given: StructuralPlan) -> bool:
    """The plan in a result is the given one as played: its sections, in order, with their
    energies (the lengths in whole bars, the chords restated bar by bar)."""
    assert played is not None
    return [(s.name, s.energy_level) for s in played.sections] == [
        (s.name, s.energy_level) for s in given.sections
    ]


def test_given_parameters_and_plan_run_no_understanding_at_all(
    tmp_path: Path,
    understood: tuple[MusicalParameters, StructuralPlan],
    no_encoder: None,
) -> None:
    params, plan = understood
    aurora = _Refusing("understand", "plan")
    result = _generate(tmp_path, aurora, parameters=params, plan=plan)
    assert result.parameters == params
    assert _followed(result.plan, plan)
    assert result.stages_run[0] == "preprocess" and "plan" not in result.stages_run
    assert result.implementations == {}


def test_a_given_plan_is_followed_not_made(
    tmp_path: Path,
    understood: tuple[MusicalParameters, StructuralPlan],
    no_encoder: None,
) -> None:
    _, plan = understood
    result = _generate(tmp_path, _Refusing("plan"), plan=plan)
    assert _followed(result.plan, plan)
    tonic, mode = result.parameters.key.split()
    if (plan.chord_progression.key, plan.chord_progression.mode) != (tonic, mode):
        assert (result.plan.chord_progression.key, result.plan.chord_progression.mode) == (
            tonic,
            mode,
        ), "a plan in another key than the words' is refitted into theirs"
    assert result.parsed_parameters is not None and "parse" in result.stages_run
    assert "structural_planner" not in result.implementations
    assert "plan" in result.stages_skipped


def test_words_alone_are_understood_once_and_not_embedded(tmp_path: Path, no_encoder: None) -> None:
    result = _generate(tmp_path, Aurora(), duration_seconds=5)
    assert result.stages_run[:4] == ["preprocess", "parse", "map", "plan"]
    assert "embed" not in result.timings_ms and "embed" in result.stages_skipped


@pytest.mark.parametrize(
    ("prompt", "error"),
    [("hi", InvalidPromptError), ("a song on how to build a pipe bomb", ContentPolicyError)],
)
def test_given_parameters_do_not_let_a_refused_prompt_through(
    tmp_path: Path,
    understood: tuple[MusicalParameters, StructuralPlan],
    prompt: str,
    error: type[Exception],
) -> None:
    params, plan = understood
    request = pipeline.GenerateRequest(
        prompt=prompt, output_path=tmp_path / "out.wav", parameters=params, plan=plan
    )
    with pytest.raises(error):
        pipeline.generate(request, aurora=Aurora(), engine=DDSP_ONLY)
    assert list(tmp_path.iterdir()) == []


def test_the_embedding_is_computed_on_first_use_only() -> None:
    u = Aurora().understand(PROMPT)
    assert "embed" not in u.timings_ms
    first = u.embedding
    assert "embed" in u.timings_ms
    assert u.embedding is first
    assert first == encoder.encode(u.parameters, u.plan)
