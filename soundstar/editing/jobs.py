"""Edits as service jobs: remake, extend or vary a finished generation from the project in
its folder, writing the new generation's audio, MIDI, plan and project."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soundstar.audio.loudness import integrated_loudness
from soundstar.audio.midi import write_midi
from soundstar.editing.assemble import project_score
from soundstar.editing.edits import (
    EditResult,
    check_extension,
    extend,
    original_audio,
    remake,
    vary,
)
from soundstar.editing.files import write_edit
from soundstar.errors import ParameterError
from soundstar.models import (
    DURATION_MAX_S,
    GenerationResult,
    GenerationStatus,
    Notice,
    OutputFiles,
)
from soundstar.project import Project, load_project

PROJECT_NAME = "project.json"


class JobEdit(BaseModel):
    """An edit of generation `source` (the caller's own, checked when it is queued)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["remake", "extend", "vary"]
    source: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    section: int | None = Field(default=None, ge=1)
    to_seconds: float | None = Field(default=None, gt=0.0, le=DURATION_MAX_S)
    seed: int | None = Field(default=None, ge=0, lt=2**63)

    @model_validator(mode="after")
    def _needs(self) -> JobEdit:
        if self.kind == "remake" and self.section is None:
            raise ValueError("a remake names its section")
        if self.kind == "extend" and self.to_seconds is None:
            raise ValueError("an extension names its length (to_seconds)")
        return self


def check_edit(edit: JobEdit, project: Project) -> None:
    """Refuse now what the edit would refuse later: a section out of range, a length it
    cannot reach (ParameterError, the service's 422)."""
    count = len(project.sections)
    if edit.section is not None and not 1 <= edit.section <= count:
        raise ParameterError(
            f"section {edit.section} is out of range: the plan has {count} sections (1 to {count})",
            field="section",
        )
    if edit.to_seconds is not None:
        check_extension(project, edit.to_seconds)


def _edited(edit: JobEdit, project: Project, source_dir: Path) -> EditResult:
    if edit.kind == "vary":
        channels = project.audio.channels if project.audio is not None else 2
        return vary(project, seed=edit.seed, channels=channels)
    base, notices = original_audio(project, project_dir=source_dir)
    if edit.kind == "remake":
        assert edit.section is not None
        result = remake(project, base, section=edit.section, seed=edit.seed)
    else:
        assert edit.to_seconds is not None
        result = extend(project, base, to_seconds=edit.to_seconds, seed=edit.seed)
    result.notices[:0] = notices
    return result


def _summary(result: EditResult, kind: str) -> str:
    names = [s.name for s in result.project.sections]

    def listed(numbers: list[int]) -> str:
        return ", ".join(f"{n} ({names[n - 1]})" for n in numbers) or "none"

    return f"{kind}: changed {listed(result.changed)}; kept {listed(result.kept)}"


def run_edit_job(
    edit: JobEdit,
    *,
    source_dir: Path,
    work: Path,
    output_format: str,
    generation_id: str,
    audio_name: str,
    midi_name: str,
    plan_name: str,
) -> GenerationResult:
    """Run `edit` on the generation in `source_dir`, writing the new one's files to `work`."""
    started = time.perf_counter()
    project = load_project(source_dir / PROJECT_NAME)
    check_edit(edit, project)
    result = _edited(edit, project, source_dir)
    audio_path = work / f"{audio_name}.{output_format}"
    project_path = work / PROJECT_NAME
    written = write_edit(
        result.audio, result.project, output=audio_path, project_path=project_path,
        format=output_format,
    )  # fmt: skip
    score = project_score(written)
    midi_path = write_midi(work / midi_name, score)
    plan_path = work / plan_name
    plan_path.write_text(
        json.dumps(written.plan.model_dump(mode="json", by_alias=True), indent=2),
        encoding="utf-8",
    )
    rate = written.engine.sample_rate
    timings = {k: round(v, 3) for k, v in result.timings_ms.items()}
    timings["total"] = round((time.perf_counter() - started) * 1000, 3)
    return GenerationResult(
        id=generation_id,
        status=GenerationStatus.COMPLETED,
        prompt=written.prompt,
        parameters=written.parameters,
        plan=written.plan,
        files=OutputFiles(
            audio=str(audio_path),
            midi=str(midi_path),
            plan=str(plan_path),
            project=str(project_path),
        ),
        output_format=output_format,
        sample_rate=rate,
        duration_seconds=round(result.audio.shape[1] / rate, 6),
        seed=edit.seed if edit.seed is not None else written.history[-1].seed,
        timings_ms=timings,
        stages_run=[edit.kind],
        synthesis=written.engine.synthesis,
        notices=[Notice(level="info", message=_summary(result, edit.kind))]
        + [Notice(level="info", message=text) for text in result.notices],
        measured={"integrated_lufs": round(integrated_loudness(result.audio, sample_rate=rate), 2)},
    )
