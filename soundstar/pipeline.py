"""Prompt → GenerationResult: the one path the CLI, the service and the workers all call."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from soundstar.audio.export import (
    SUPPORTED_SAMPLE_RATES,
    check_output_path,
    write_audio,
    write_stems,
)
from soundstar.audio.listen import ClipAnalysis
from soundstar.audio.midi import write_midi
from soundstar.aurora.chain import ChainAnswer
from soundstar.aurora.lineup import voice_notice
from soundstar.aurora.mapper import map_parameters
from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.preprocess import check_prompt as check_prompt  # the service refuses early
from soundstar.aurora.refit import as_played, refit
from soundstar.config import get_settings
from soundstar.controls import apply_to_parameters
from soundstar.editing.files import audio_record
from soundstar.engine.composer import compose
from soundstar.engine.loop import render_loop
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.render import ProgressFn, RenderResult, render_score
from soundstar.errors import OutputError, ParameterError, SoundstarError
from soundstar.like import like, like_notice
from soundstar.loops import (
    LOOP_BARS_DEFAULT,
    LOOP_BARS_MAX,
    loop_parameters,
    loop_plan,
    loop_tags,
)
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    Enhancement,
    ErrorInfo,
    GenerationResult,
    GenerationStatus,
    Implementation,
    MusicalParameters,
    Notice,
    OutputFiles,
    ParsedParameters,
    Score,
    StructuralPlan,
)
from soundstar.project import (
    Composition,
    Edit,
    EngineRecord,
    Project,
    save_project,
    sections_of,
)
from soundstar.settle import settle

AudioFormat = Literal["wav", "flac", "mp3"]
_GIVEN = "the person gave the {}"
_UNUSED_EMBEDDING = "the engine composes from the parameters and plan, not the embedding"
_STAGE_SPAN = {
    "understand": (0.0, 0.05),
    "compose": (0.05, 0.1),
    "synthesis": (0.1, 0.8),
    "mix": (0.8, 0.9),
    "export": (0.9, 1.0),
}


class GenerateRequest(BaseModel):
    """What a person asks for; validated before any work is done."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    output_path: Path
    duration_seconds: float | None = Field(default=None, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    output_format: AudioFormat = "wav"
    sample_rate: int = 44100
    bit_depth: Literal[16, 24, 32] = 16
    channels: Literal[1, 2] = 2
    midi_path: Path | None = None
    stems_dir: Path | None = None
    plan_path: Path | None = None
    project_path: Path | None = Field(
        default=None, description="also write the project record (soundstar.project) here"
    )
    target_lufs: float = Field(default=-14.0, ge=-40.0, le=-5.0)
    check_length: bool = True
    parameters: MusicalParameters | None = Field(
        default=None, description="generate with these parameters (as the person adjusted them)"
    )
    plan: StructuralPlan | None = Field(default=None, description="generate with this plan")
    enhance: bool = Field(default=False, description="enhance the prompt before parsing it")
    enhancement_level: Literal["minimal", "moderate", "aggressive"] = "moderate"
    loop: bool = Field(
        default=False, description="a seamless loop: whole bars, tails wrapped onto the start"
    )
    like: ClipAnalysis | None = Field(
        default=None,
        description="a clip's analysis: its tempo, key, meter and energy where the words are silent",
    )
    loop_bars: int | None = Field(
        default=None,
        ge=1,
        le=LOOP_BARS_MAX,
        description=f"bars in a loop (default {LOOP_BARS_DEFAULT})",
    )


def _check_request(request: GenerateRequest) -> None:
    if request.sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise ParameterError(
            f"sample rate {request.sample_rate} Hz is not supported; use one of "
            + ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES),
            field="sample_rate",
        )
    for path in (request.output_path, request.midi_path, request.plan_path, request.project_path):
        if path is not None:
            check_output_path(path)
    if request.loop and request.project_path is not None:
        raise ParameterError(
            "a loop has no project: its tails are wrapped onto its start, so it has no sections "
            "to remake or extend (leave out --project, or --loop)",
            field="project_path",
        )
    if request.stems_dir is not None:
        directory = request.stems_dir
        if directory.exists() and not directory.is_dir():
            raise OutputError(f"stems directory {directory} exists and is not a directory")
        parent = directory if directory.exists() else directory.parent
        check_output_path(parent / ".soundstar-probe")


def _scaled(progress: ProgressFn | None, stage: str) -> Callable[[str, float], None]:
    lo, hi = _STAGE_SPAN[stage]

    def report(name: str, fraction: float) -> None:
        if progress is not None:
            span = _STAGE_SPAN.get(name, (lo, hi))
            progress(name, span[0] + (span[1] - span[0]) * min(max(fraction, 0.0), 1.0))

    return report


@dataclass
class _Reading:
    """What the engine is given and where it came from: Aurora's understanding of the
    words, or the person's own parameters and plan taking the place of those stages."""

    parameters: MusicalParameters
    plan: StructuralPlan
    parsed: ParsedParameters | None
    stated: ParsedParameters | None  # the parse of the person's own words, unenhanced
    enhancement: Enhancement | None
    implementations: dict[str, Implementation]
    implementation_used: Implementation
    fallback_used: bool
    fallback_reason: str | None
    notices: list[Notice]
    timings_ms: dict[str, float]
    stages_run: list[str]
    stages_skipped: dict[str, str] = field(default_factory=dict)


def _read(request: GenerateRequest, aurora: Aurora) -> _Reading:
    """One pass: each stage runs only when the person did not give its answer.

    Given parameters, the words are only checked (length, content) and neither enhanced
    nor parsed; given a plan, it is followed, not made. Parameters given without a plan
    are planned afresh, so the sections fit their duration, key and genre.
    """
    if request.parameters is None:
        understood = aurora.understand(
            request.prompt,
            duration_seconds=request.duration_seconds,
            check_length=request.check_length,
            enhance=request.enhance,
            enhancement_level=request.enhancement_level,
            plan=request.plan,
        )
        enhanced = understood.enhancement is not None
        return _Reading(
            parameters=understood.parameters,
            plan=understood.plan,
            parsed=understood.parsed,
            stated=understood.stated,
            enhancement=understood.enhancement,
            implementations=understood.implementations,
            implementation_used=understood.implementation_used,
            fallback_used=understood.fallback_used,
            fallback_reason=understood.fallback_reason,
            notices=understood.notices,
            timings_ms=dict(understood.timings_ms),
            stages_run=[
                "preprocess",
                *(["enhance"] if enhanced else []),
                "parse",
                "map",
                *([] if request.plan else ["plan"]),
            ],
            stages_skipped={
                "embed": _UNUSED_EMBEDDING,
                **({} if enhanced else {"enhance": "not asked for (enhance is off)"}),
                **({"plan": _GIVEN.format("plan")} if request.plan else {}),
            },
        )
    timings: dict[str, float] = {}
    start = time.perf_counter()
    check_prompt(request.prompt, check_length=request.check_length)
    timings["preprocess"] = (time.perf_counter() - start) * 1000
    params = request.parameters
    if request.duration_seconds is not None:
        params = params.model_copy(update={"duration_seconds": request.duration_seconds})
    settled = settle(params)  # the controls as set, within what the words stated
    params = settled.parameters
    given = _GIVEN.format("parameters")
    skipped = {"enhance": given, "parse": given, "map": given, "embed": _UNUSED_EMBEDDING}
    answers: dict[str, ChainAnswer[StructuralPlan]] = {}
    if request.plan is not None:
        plan = request.plan
        skipped["plan"] = _GIVEN.format("plan")
    else:
        start = time.perf_counter()
        answers["structural_planner"] = aurora.plan(params)
        timings["plan"] = (time.perf_counter() - start) * 1000
        plan = answers["structural_planner"].value
    implementations = {module: a.implementation for module, a in answers.items()}
    return _Reading(
        parameters=params,
        plan=plan,
        parsed=None,
        stated=None,
        enhancement=None,
        implementations=implementations,
        implementation_used=next(iter(implementations.values()), Implementation.RULE_BASED),
        fallback_used=any(a.fallback_used for a in answers.values()),
        fallback_reason="; ".join(a.fallback_reason for a in answers.values() if a.fallback_reason)
        or None,
        notices=settled.notices + [n for a in answers.values() if (n := a.notice()) is not None],
        timings_ms=timings,
        stages_run=["preprocess", *(["plan"] if answers else [])],
        stages_skipped=skipped,
    )


def generate(
    request: GenerateRequest,
    *,
    aurora: Aurora | None = None,
    progress: ProgressFn | None = None,
    generation_id: str | None = None,
    engine: EngineOptions | None = None,
) -> GenerationResult:
    """Run the whole pipeline and write the requested files; on failure nothing is left behind.
    `engine` defaults to the options of the process's settings."""
    total_start = time.perf_counter()
    _check_request(request)
    aurora = aurora or Aurora()
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    report = _scaled(progress, "understand")
    report("understand", 0.0)
    reading = _read(request, aurora)
    params, plan = reading.parameters, reading.plan
    if request.like is not None:
        taken = like(request.like, reading.stated)
        params = apply_to_parameters(params, taken.overrides)
        reading.notices.append(like_notice(taken))
    if request.loop:
        params = loop_parameters(params, request.loop_bars or LOOP_BARS_DEFAULT)
        plan = loop_plan(plan, params)
    fitted = refit(params, plan)  # a plan sent for another key or length is refitted, and says so
    plan = fitted.plan
    timings = reading.timings_ms
    stages = reading.stages_run
    report("understand", 1.0)

    start = time.perf_counter()
    composed_plan = plan
    score: Score = compose(params, plan, seed=seed, loops=request.loop)
    plan = as_played(plan, score)
    timings["compose"] = (time.perf_counter() - start) * 1000
    stages.append("compose")
    _scaled(progress, "compose")("compose", 1.0)

    options = engine or engine_options_from_settings(get_settings().engine)
    rendered = (render_loop if request.loop else render_score)(
        score,
        sample_rate=request.sample_rate,
        seed=seed,
        target_lufs=request.target_lufs,
        progress=_scaled(progress, "synthesis"),
        options=options,
    )
    timings.update(rendered.timings_ms)
    stages.extend(rendered.stages_run)

    start = time.perf_counter()
    written: list[Path] = []
    files = OutputFiles()
    try:
        files.audio = str(
            write_audio(
                request.output_path,
                rendered.master_audio,
                sample_rate=request.sample_rate,
                format=request.output_format,
                bit_depth=request.bit_depth,
                channels=request.channels,
                tags=loop_tags(score) if request.loop else None,
            )
        )
        written.append(request.output_path)
        if request.midi_path is not None:
            files.midi = str(write_midi(request.midi_path, score))
            written.append(request.midi_path)
        if request.stems_dir is not None:
            request.stems_dir.mkdir(parents=True, exist_ok=True)
            stem_paths = write_stems(
                request.stems_dir,
                rendered.stem_audio,
                sample_rate=request.sample_rate,
                format=request.output_format,
            )
            files.stems = {name: str(path) for name, path in stem_paths.items()}
            written.extend(stem_paths.values())
        if request.plan_path is not None:
            tmp = request.plan_path.with_name(f".{request.plan_path.name}.tmp")
            tmp.write_text(
                json.dumps(plan.model_dump(mode="json", by_alias=True), indent=2), encoding="utf-8"
            )
            tmp.replace(request.plan_path)
            files.plan = str(request.plan_path)
            written.append(request.plan_path)
        if request.project_path is not None:
            project = project_record(
                request, params, plan, composed_plan, score, seed, options, rendered
            )
            files.project = str(save_project(project, request.project_path))
            written.append(request.project_path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    timings["export"] = (time.perf_counter() - start) * 1000
    stages.append("export")
    _scaled(progress, "export")("export", 1.0)
    timings["total"] = (time.perf_counter() - total_start) * 1000

    return GenerationResult(
        id=generation_id or uuid.uuid4().hex,
        status=GenerationStatus.COMPLETED,
        prompt=request.prompt,
        enhanced_prompt=reading.enhancement.enhanced_prompt if reading.enhancement else None,
        parsed_parameters=reading.parsed,
        parameters=params,
        plan=plan,
        files=files,
        output_format=request.output_format,
        sample_rate=request.sample_rate,
        duration_seconds=round(rendered.master_audio.n_samples / request.sample_rate, 6),
        seed=seed,
        timings_ms={k: round(v, 3) for k, v in timings.items()},
        implementation_used=reading.implementation_used,
        implementations=reading.implementations,
        fallback_used=reading.fallback_used,
        fallback_reason=reading.fallback_reason,
        stages_run=stages,
        stages_skipped={
            **reading.stages_skipped,
            **({"rave": rendered.rave["reason"]} if rendered.rave["status"] == "skipped" else {}),
        },
        synthesis=rendered.synthesis,
        notices=reading.notices
        + ([fitted.notice] if fitted.notice else [])
        + [Notice(level="info", message=text) for text in rendered.notices]
        + voice_notice(params),
        measured={
            "integrated_lufs": round(rendered.lufs, 2),
            "true_peak_dbtp": round(rendered.true_peak_dbtp, 2),
        },
    )


def project_record(
    request: GenerateRequest,
    params: MusicalParameters,
    plan: StructuralPlan,
    composed_plan: StructuralPlan,
    score: Score,
    seed: int,
    options: EngineOptions,
    rendered: RenderResult,
) -> Project:
    """The project of a generation whose audio has been written to `request.output_path`."""
    n_sections = len(score.sections)
    return Project(
        prompt=request.prompt,
        parameters=params,
        plan=plan,
        compositions=[Composition(plan=composed_plan, duration_seconds=params.duration_seconds)],
        sections=sections_of(score, [seed] * n_sections, [0] * n_sections),
        engine=EngineRecord(
            sample_rate=request.sample_rate,
            render_seed=seed,
            target_lufs=request.target_lufs,
            options=options,
            synthesis=rendered.synthesis,
        ),
        master=rendered.master_gains,
        duration_seconds=params.duration_seconds,
        audio=audio_record(
            request.output_path,
            project_path=request.project_path,
            format=request.output_format,
            bit_depth=request.bit_depth,
            channels=request.channels,
            n_samples=rendered.master_audio.n_samples,
        ),
        history=[Edit(kind="generate", sections=list(range(1, n_sections + 1)), seed=seed)],
    )


def failed_result(
    prompt: str, error: SoundstarError, *, generation_id: str | None = None
) -> GenerationResult:
    """A failed GenerationResult carrying the spec's error code and message."""
    return GenerationResult(
        id=generation_id or uuid.uuid4().hex,
        status=GenerationStatus.FAILED,
        prompt=prompt,
        error=ErrorInfo(code=error.code, message=error.message),
    )


def parameters_from_fields(
    parsed: ParsedParameters, *, duration_seconds: float | None = None
) -> MusicalParameters:
    """Parameters from fields a person filled in (a form, an API body), each stated, made
    whole and checked as a parse of their words would be; an instrument listed twice is
    two players. Raises ParameterError when the fields cannot be made coherent."""
    try:
        mapped = map_parameters(parsed, duration_seconds=duration_seconds)
    except ValueError as exc:
        raise ParameterError(str(exc).splitlines()[0], field="parameters") from exc
    return mapped.parameters
