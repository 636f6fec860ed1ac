"""What the endpoints do, shared by the aurora, codex and WebSocket routes.

Each function takes the app state and the caller, calls Aurora / the store /
the job queue through their library APIs, and records metrics.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.concurrency import run_in_threadpool

from soundstar import pipeline
from soundstar.api.auth import Principal
from soundstar.api.schemas import (
    FeedbackRequest,
    GenerateRequest,
    PlanParameters,
)
from soundstar.api.state import AppState
from soundstar.aurora.pipeline import Understanding
from soundstar.controls import controlled, overrides_from_json
from soundstar.errors import (
    NotFoundError,
    ParameterError,
    QueueUnavailableError,
)
from soundstar.knowledge import load_knowledge
from soundstar.models import (
    ControlEmbedding,
    EnergyValue,
    Exclusions,
    InstrumentMention,
    MusicalParameters,
    OptionalValueWithConfidence,
    ParsedParameters,
    StructuralPlan,
    TempoValue,
    ValueWithConfidence,
)
from soundstar.store.schemas import (
    FeedbackCreate,
    JobRecord,
    SessionCreate,
    SuggestionCreate,
)
from soundstar.theory import parse_chord

FEEDBACK_THROTTLE_S = 5.0  # spec v1 §7.3
WAIT_FIRST_POLL_S = 0.05
WAIT_MAX_POLL_S = 0.5


def understand(state: AppState, prompt: str, **kwargs: Any) -> Understanding:
    understanding = state.aurora.understand(prompt, **kwargs)
    for module, implementation in understanding.implementations.items():
        state.metrics.observe_module(module, implementation.value, implementation != _first(state))
    state.metrics.observe_stages(understanding.timings_ms)
    return understanding


def _first(state: AppState) -> Any:
    """The implementation that answers when nothing fails: the first configured backend."""
    for backend in state.aurora.backends:
        if backend.configured:
            return backend.name
    return None


def embedding_of(understanding: Understanding) -> ControlEmbedding:
    return understanding.embedding


def open_session(
    state: AppState,
    principal: Principal,
    prompt: str,
    *,
    enhanced: str | None = None,
    understanding: Understanding | None = None,
    implementation: Any = None,
) -> str:
    """Record a session (spec v2 §7.1), with the control embedding when there is one."""
    data: dict[str, Any] = {"original_prompt": prompt, "enhanced_prompt": enhanced}
    if understanding is not None:
        data.update(
            parsed_parameters=understanding.parsed,
            structural_plan=understanding.plan,
            control_embedding=embedding_of(understanding),
            implementation_used=understanding.implementation_used,
            status="completed",
        )
    elif implementation is not None:
        data.update(implementation_used=implementation, status="completed")
    return state.store.sessions.create(principal.user.id, SessionCreate(**data)).id


def record_additions(
    state: AppState, principal: Principal, session_id: str, additions: list[Any]
) -> None:
    """The enhancer's additions on the session, in one transaction."""
    state.store.suggestions.create_many(
        principal.user.id,
        [
            SuggestionCreate(
                session_id=session_id,
                module="prompt_enhancer",
                suggestion_type=addition.type[:64],
                suggested_value=addition.value,
                confidence=addition.confidence,
                reasoning=addition.reasoning,
            )
            for addition in additions
        ],
    )


# --------------------------------------------------------------------------- plan from fields


def _resolve_genre(name: str, field: str) -> str:
    kb = load_knowledge()
    genre = kb.find_genre(name)
    if genre is None:
        raise ParameterError(f"unknown genre {name!r}", field=field)
    return genre.id


def parameters_from_fields(fields: PlanParameters) -> MusicalParameters:
    """MusicalParameters from the plan endpoint's few fields; the rest from the knowledge base."""
    kb = load_knowledge()
    genre = _resolve_genre(fields.genre, "parameters.genre")
    sub = _resolve_genre(fields.sub_genre, "parameters.sub_genre") if fields.sub_genre else None
    moods = []
    for word in (w.strip() for w in fields.mood.replace(";", ",").split(",")):
        if not word:
            continue
        mood = kb.find_mood(word)
        if mood is None:
            raise ParameterError(f"unknown mood {word!r}", field="parameters.mood")
        moods.append(ValueWithConfidence(value=mood.id, confidence=1.0))
    instruments = []
    for name in fields.instrumentation or []:
        record = kb.find_instrument(name)
        if record is not None:  # the word itself: the mapper gives a generic one the genre's kind
            instruments.append(InstrumentMention(name=name, role=record.role, confidence=1.0))
        elif (ensemble := kb.find_ensemble(name)) is not None:  # members, in their parts
            instruments.append(InstrumentMention(name=ensemble.id, role="lead", confidence=1.0))
        else:
            raise ParameterError(f"unknown instrument {name!r}", field="parameters.instrumentation")
    parsed = ParsedParameters(
        genre=ValueWithConfidence(value=genre, confidence=1.0),
        sub_genre=OptionalValueWithConfidence(value=sub, confidence=1.0 if sub else 0.0),
        tempo=TempoValue(type="explicit", bpm=fields.tempo_bpm, confidence=1.0),
        mood=moods,
        instrumentation=instruments,
        structure=ValueWithConfidence(
            value=fields.structure or "", confidence=1.0 if fields.structure else 0.0
        ),
        key_signature=OptionalValueWithConfidence(
            value=fields.key, confidence=1.0 if fields.key else 0.0
        ),
        time_signature=ValueWithConfidence(
            value=fields.time_signature or "4/4", confidence=1.0 if fields.time_signature else 0.0
        ),
        energy_level=EnergyValue(
            value=fields.energy_level if fields.energy_level is not None else 0.5,
            confidence=1.0 if fields.energy_level is not None else 0.0,
        ),
        reference_artists=[],
        chord_progression=fields.chord_progression,
        exclusions=fields.exclusions or Exclusions(),
    )
    return pipeline.parameters_from_fields(parsed, duration_seconds=fields.duration_seconds)


# --------------------------------------------------------------------------- generation


def check_generation_inputs(params: MusicalParameters | None, plan: StructuralPlan | None) -> None:
    """Refuse now what a worker would refuse later: an instrument the knowledge base does
    not know, a chord symbol that does not parse (ParameterError naming the field)."""
    kb = load_knowledge()
    if params is not None:
        for index, inst in enumerate(params.instrumentation):
            if (kb.instruments.get(inst.name) or kb.find_instrument(inst.name)) is None:
                raise ParameterError(
                    f"unknown instrument {inst.name!r}",
                    field=f"parameters.instrumentation.{index}.name",
                )
        _check_chords(params.chord_progression or [], "parameters.chord_progression")
    if plan is not None:
        _check_chords(plan.chord_progression.chords, "plan.chord_progression.chords")
        for index, section in enumerate(plan.sections):
            _check_chords(section.chords or [], f"plan.sections.{index}.chords")


def _check_chords(symbols: list[str], field: str) -> None:
    for index, symbol in enumerate(symbols):
        try:
            parse_chord(symbol)
        except ParameterError as exc:
            raise ParameterError(exc.message, field=f"{field}.{index}") from None


def _controlled(
    state: AppState, body: GenerateRequest
) -> tuple[MusicalParameters | None, StructuralPlan | None, float]:
    """The parameters, plan and length to queue: `controls` set over `parameters` (else the
    prompt's) and `plan` as the CLI's `--set` sets them over `--params` and `--plan-in`.
    The length is a `duration_seconds` control, else the parameters', else the options'."""
    options = body.options
    duration = (
        body.parameters.duration_seconds
        if body.parameters is not None and "duration_seconds" in body.parameters.model_fields_set
        else options.duration_seconds
    )
    overrides = overrides_from_json(body.controls or {}, "controls")
    length_set = any(o.name == "duration_seconds" for o in overrides)
    params, plan = controlled(
        state.aurora,
        body.prompt,
        overrides,
        parameters=body.parameters,
        plan=body.plan,
        duration_seconds=None if length_set else duration,
        enhance=options.enhance_prompt,
        enhancement_level=options.enhancement_level,
    )
    if params is not None and length_set:
        duration = params.duration_seconds
    return params, plan, duration


def submit_generation(state: AppState, principal: Principal, body: GenerateRequest) -> str:
    """Validate, store the job and hand it to the queue; the job id is the generation id.

    Controls are set before the job is stored, so a bad one is refused (naming it and its
    range) with nothing queued. A queue that cannot take the job (the broker is down) gets
    the job row removed again and a 503, so a generation is either refused or on its way,
    never stranded.
    """
    pipeline.check_prompt(body.prompt)  # bad prompts are refused now, not discovered by a worker
    if body.options.bars is not None and not body.options.loop:
        raise ParameterError("bars is the length of a loop; set loop too", field="options.bars")
    params, plan, duration = _controlled(state, body)
    check_generation_inputs(params, plan)
    session_id = body.session_id
    if session_id is not None and state.store.sessions.get(session_id, principal.user.id) is None:
        raise NotFoundError(f"no session {session_id}")
    opened = session_id is None
    if session_id is None:
        session_id = open_session(state, principal, body.prompt)
    options = body.options
    request: dict[str, Any] = {
        "prompt": body.prompt,
        "duration_seconds": duration,
        "output_format": options.output_format,
        "sample_rate": options.sample_rate,
        "seed": options.seed,
        "enhance": options.enhance_prompt,
        "enhancement_level": options.enhancement_level,
        "stems": options.stems,
        "parameters": params.model_dump(mode="json") if params else None,
        "plan": plan.model_dump(mode="json", by_alias=True) if plan else None,
        "loop": options.loop,
        "loop_bars": options.bars,
        "like": body.like.model_dump(mode="json") if body.like else None,
    }
    job_id = state.store.jobs.enqueue(principal.user.id, request, session_id=session_id)
    try:
        state.queue.submit(job_id)
    except Exception as exc:
        state.store.jobs.withdraw(job_id, with_session=opened)
        raise QueueUnavailableError(
            "generations cannot be queued right now; nothing was started, try again shortly"
        ) from exc
    return job_id


def get_job(state: AppState, principal: Principal, job_id: str) -> JobRecord:
    job = state.store.jobs.get(job_id, principal.user.id) if len(job_id) <= 64 else None
    if job is None:
        raise NotFoundError(f"no generation {job_id}")
    return job


async def wait_for_job(
    state: AppState, principal: Principal, job_id: str, wait_s: float
) -> JobRecord:
    """Poll the job until it ends or `wait_s` passes (the client asked to wait that long).

    The wait is asynchronous: a waiting caller holds no thread (only each short lookup
    runs in the threadpool), so many waiters cannot stall other people or /health.
    """
    deadline = time.monotonic() + min(wait_s, state.settings.api.generate_wait_max_s)
    delay = WAIT_FIRST_POLL_S
    while True:
        job = await run_in_threadpool(get_job, state, principal, job_id)
        if job.status in ("completed", "failed") or time.monotonic() >= deadline:
            return job
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, WAIT_MAX_POLL_S)


# --------------------------------------------------------------------------- feedback


def give_feedback(state: AppState, principal: Principal, body: FeedbackRequest) -> None:
    """Store feedback, at most one per 5 s per person (spec v1 §7.3), across processes."""
    if body.generation_id is None and body.session_id is None:
        raise ParameterError("give a generation_id or a session_id", field="generation_id")
    details = body.feedback_details
    state.feedback_throttle.check(str(principal.user.id))  # shared by every process
    state.store.feedback.create(
        principal.user.id,
        FeedbackCreate(
            session_id=body.session_id,
            result_id=body.generation_id,
            feedback_type=body.feedback_type,
            prompt_quality_rating=details.prompt_quality if details else None,
            suggestion_relevance_rating=details.suggestion_relevance if details else None,
            audio_quality_rating=details.audio_quality if details else None,
            comments=details.comments if details else None,
        ),
    )


def plan_for(state: AppState, params: MusicalParameters) -> tuple[StructuralPlan, Any]:
    answer = state.aurora.plan(params)
    state.metrics.observe_module(
        "structural_planner", answer.implementation.value, answer.fallback_used
    )
    return answer.value, answer
