"""`/api/v1/aurora/*` — spec v2 §5.2, served by the one Aurora pipeline."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from soundstar.api import service
from soundstar.api.schemas import (
    ERROR_RESPONSES,
    Addition,
    AuroraMetadata,
    EnhanceRequest,
    EnhanceResponse,
    FeedbackRequest,
    FeedbackResponse,
    GenerateRequest,
    Generation,
    HistoryEntry,
    HistoryResponse,
    InferredContext,
    ParseRequest,
    ParseResponse,
    PlanRequest,
    PlanResponse,
    RefinementRequest,
    RefinementResponse,
    SuggestionOut,
    SuggestRequest,
    SuggestResponse,
)
from soundstar.api.shapes import control_encoder_params, file_url, generation_view
from soundstar.api.state import Caller, State
from soundstar.errors import NotFoundError
from soundstar.store.schemas import EnhancementItem, RefinementCreate

router = APIRouter(prefix="/api/v1/aurora", tags=["aurora"], responses=ERROR_RESPONSES)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


@router.post("/enhance", response_model=EnhanceResponse)
def enhance(body: EnhanceRequest, state: State, caller: Caller) -> EnhanceResponse:
    """Enhance a raw prompt with musical context (spec v2 §5.2.1)."""
    context = body.context.model_dump(exclude_none=True) if body.context else None
    outcome = state.aurora.enhance(
        body.prompt, level=body.enhancement_level, context=context or None
    )
    state.metrics.observe_module(
        "prompt_enhancer", outcome.implementation.value, outcome.fallback_used
    )
    state.metrics.observe_stages({"enhance": outcome.processing_time_ms})
    enhancement = outcome.enhancement
    session_id = service.open_session(
        state,
        caller,
        body.prompt,
        enhanced=enhancement.enhanced_prompt,
        implementation=outcome.implementation,
    )
    service.record_additions(state, caller, session_id, enhancement.additions)
    return EnhanceResponse(
        original_prompt=body.prompt,
        enhanced_prompt=enhancement.enhanced_prompt,
        additions=[Addition(**a.model_dump()) for a in enhancement.additions],
        aurora_metadata=AuroraMetadata(
            module="prompt_enhancer",
            implementation=outcome.implementation.value,
            processing_time_ms=round(outcome.processing_time_ms, 3),
            cache_hit=outcome.cache_hit,
            fallback_used=outcome.fallback_used,
            fallback_reason=outcome.fallback_reason,
        ),
        notices=outcome.notices,
        session_id=session_id,
    )


def suggest_response(state: State, body: SuggestRequest) -> SuggestResponse:
    outcome = state.aurora.suggest(
        body.partial_prompt, cursor_position=body.cursor_position, count=body.suggestion_count
    )
    state.metrics.observe_module("suggester", outcome.implementation.value, False)
    return SuggestResponse(
        suggestions=[SuggestionOut(**s.model_dump()) for s in outcome.suggestions],
        inferred_context=InferredContext(
            likely_genre=outcome.likely_genre, likely_mood=outcome.likely_mood
        ),
        aurora_metadata=AuroraMetadata(
            module="suggester",
            implementation=outcome.implementation.value,
            processing_time_ms=round(outcome.processing_time_ms, 3),
            cache_hit=outcome.cache_hit,
        ),
    )


@router.post("/suggest", response_model=SuggestResponse)
def suggest(body: SuggestRequest, state: State, caller: Caller) -> SuggestResponse:
    """Suggestions for a prompt being typed (spec v1 §3.2.2); fast enough per keystroke."""
    return suggest_response(state, body)


@router.post("/parse", response_model=ParseResponse)
def parse(body: ParseRequest, state: State, caller: Caller) -> ParseResponse:
    """Parse a prompt into musical parameters with confidences (spec v2 §5.2.2)."""
    start = time.perf_counter()
    understanding = service.understand(state, body.prompt)
    embedding = service.embedding_of(understanding)
    session_id = service.open_session(state, caller, body.prompt, understanding=understanding)
    return ParseResponse(
        parsed_parameters=understanding.parsed,
        control_encoder_params=control_encoder_params(embedding, understanding.parameters),
        musical_parameters=understanding.parameters,
        structural_plan=understanding.plan,
        aurora_metadata=AuroraMetadata(
            module="semantic_parser",
            implementation=understanding.implementations.get(
                "semantic_parser", understanding.implementation_used
            ).value,
            processing_time_ms=_ms(start),
            cache_hit=bool(getattr(understanding, "cache_hit", False)),
            fallback_used=understanding.fallback_used,
            fallback_reason=understanding.fallback_reason,
        ),
        notices=understanding.notices,
        session_id=session_id,
    )


@router.post("/plan", response_model=PlanResponse)
def plan(body: PlanRequest, state: State, caller: Caller) -> PlanResponse:
    """A structural plan for the given parameters (spec v2 §5.2.3)."""
    start = time.perf_counter()
    params = service.parameters_from_fields(body.parameters)
    structural_plan, answer = service.plan_for(state, params)
    notice = answer.notice()
    return PlanResponse(
        structural_plan=structural_plan,
        musical_parameters=params,
        aurora_metadata=AuroraMetadata(
            module="structural_planner",
            implementation=answer.implementation.value,
            processing_time_ms=_ms(start),
            fallback_used=answer.fallback_used,
            fallback_reason=answer.fallback_reason,
        ),
        notices=[notice] if notice else [],
    )


@router.post("/generate", response_model=Generation)
async def generate(
    body: GenerateRequest, request: Request, state: State, caller: Caller
) -> Generation:
    """Queue the whole pipeline; answers at once ('queued') or after `options.wait_seconds`."""
    job_id = await run_in_threadpool(service.submit_generation, state, caller, body)
    job = await service.wait_for_job(state, caller, job_id, body.options.wait_seconds)
    return generation_view(job, str(request.base_url))


def _latest_rating(state: State, user_id: int, job_id: str) -> int | None:
    """The newest audio rating the person gave this generation, shown again after a reload."""
    ratings = [
        r.audio_quality_rating
        for r in state.store.feedback.list_for_result(job_id, user_id)
        if r.audio_quality_rating is not None
    ]
    return ratings[-1] if ratings else None


@router.get("/history", response_model=HistoryResponse)
def history(
    request: Request,
    state: State,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    sort: Literal["newest", "oldest"] = "newest",
) -> HistoryResponse:
    """The caller's generations and enhance-only sessions, newest first by default
    (spec v1 §3.2.5); `kind` says which an entry is."""
    page = state.store.jobs.history(caller.user.id, limit=limit, offset=offset, sort=sort)
    base = str(request.base_url)
    items = []
    for item in page.items:
        if isinstance(item, EnhancementItem):
            items.append(
                HistoryEntry(
                    id=item.id,
                    kind="enhancement",
                    original_prompt=item.original_prompt,
                    enhanced_prompt=item.enhanced_prompt,
                    parameters=None,
                    audio_url=None,
                    created_at=item.created_at,
                    user_feedback=item.user_feedback,
                    status="enhanced",
                )
            )
            continue
        job, result = item, item.result
        items.append(
            HistoryEntry(
                id=job.id,
                original_prompt=str(job.request.get("prompt", "")),
                enhanced_prompt=result.enhanced_prompt if result else None,
                parameters=result.parameters.model_dump(mode="json")
                if result and result.parameters
                else None,
                audio_url=file_url(base, job.id, "audio")
                if job.status == "completed" and job.files
                else None,
                created_at=job.created_at,
                user_feedback=job.user_feedback,
                status=job.status,
                duration_seconds=job.audio_duration_seconds,
                output_format=job.output_format or job.request.get("output_format"),
                seed=result.seed if result else None,
                user_rating=_latest_rating(state, caller.user.id, job.id),
            )
        )
    return HistoryResponse(total_count=page.total_count, items=items)


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(body: FeedbackRequest, state: State, caller: Caller) -> FeedbackResponse:
    """Feedback on a generation or session; one per 5 s per person (spec v1 §3.2.6, §7.3)."""
    service.give_feedback(state, caller, body)
    return FeedbackResponse(success=True, message="Feedback submitted successfully")


@router.post("/refinements", response_model=RefinementResponse)
def refinement(body: RefinementRequest, state: State, caller: Caller) -> RefinementResponse:
    """Record a value the person accepted, edited or rejected (spec v2 §7.1 refinements;
    spec v1 §6's parameter_name / refinement_source are accepted too)."""
    if state.store.sessions.get(body.session_id, caller.user.id) is None:
        raise NotFoundError(f"no session {body.session_id}")
    record = state.store.refinements.create(
        caller.user.id, RefinementCreate.model_validate(body.to_record())
    )
    return RefinementResponse(
        id=record.id,
        created_at=record.created_at,
        field=record.field,
        source=record.source,
        refinement_source=record.refinement_source,
    )
