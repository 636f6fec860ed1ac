"""`/api/v1/codex/*` — spec v1 §3.2's shapes, served by the same Aurora pipeline."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from soundstar import __version__
from soundstar.api import service
from soundstar.api.routes import aurora as aurora_routes
from soundstar.api.schemas import (
    ERROR_RESPONSES,
    CodexEnhanceResponse,
    CodexGeneration,
    CodexGenerationMetadata,
    CodexMetadata,
    CodexStructured,
    CodexSuggestion,
    EnhanceRequest,
    FeedbackRequest,
    FeedbackResponse,
    GenerateRequest,
    HistoryResponse,
    SuggestRequest,
    SuggestResponse,
    TranslateRequest,
    TranslateResponse,
)
from soundstar.api.shapes import control_encoder_params, ddsp_hints, generation_view, human_readable
from soundstar.api.state import Caller, State
from soundstar.knowledge import load_knowledge
from soundstar.models import Implementation, MusicalParameters

router = APIRouter(prefix="/api/v1/codex", tags=["codex"], responses=ERROR_RESPONSES)


def _structured(params: MusicalParameters) -> CodexStructured:
    return CodexStructured(
        genre=params.genre,
        sub_genre=params.sub_genre,
        tempo_bpm=round(params.tempo_bpm, 2),
        mood=", ".join(params.mood) or "neutral",
        energy_level=params.energy_level,
        instrumentation=[i.name for i in params.instrumentation],
        structure=params.structure,
        key_signature=params.key,
        time_signature=params.time_signature,
    )


def _original_value(kind: str, params: MusicalParameters, stated: set[str]) -> str | None:
    """What the person's own words said for a kind of addition, when they said anything."""
    values: dict[str, Any] = {
        "genre": params.genre if "genre" in stated else None,
        "sub_genre": params.sub_genre,
        "tempo": f"{params.tempo_bpm:g} BPM" if "tempo" in stated else None,
        "key": params.key if "key" in stated else None,
        "mood": ", ".join(params.mood) if "mood" in stated and params.mood else None,
        "instrumentation": ", ".join(i.name for i in params.instrumentation)
        if "instrumentation" in stated
        else None,
        "structure": params.structure if "structure" in stated else None,
    }
    return values.get(kind)


def _model_version(state: State, implementation: Implementation) -> str:
    for backend in state.aurora.backends:
        if backend.name == implementation and hasattr(backend, "model"):
            return str(backend.model)
    return f"soundstar-{implementation.value}-{__version__}"


@router.post("/enhance", response_model=CodexEnhanceResponse)
def enhance(body: EnhanceRequest, state: State, caller: Caller) -> CodexEnhanceResponse:
    """Enhance a prompt and give the structured parameters it implies (spec v1 §3.2.1)."""
    start = time.perf_counter()
    context = body.context.model_dump(exclude_none=True) if body.context else None
    outcome = state.aurora.enhance(
        body.prompt, level=body.enhancement_level, context=context or None
    )
    state.metrics.observe_module(
        "prompt_enhancer", outcome.implementation.value, outcome.fallback_used
    )
    original = service.understand(state, body.prompt)
    enhanced = service.understand(
        state,
        outcome.enhancement.enhanced_prompt,
        check_length=False,
        duration_seconds=body.context.duration_hint if body.context else None,
    )
    parsed = original.parsed
    stated = {
        name
        for name, confidence in (
            ("genre", parsed.genre.confidence),
            ("tempo", parsed.tempo.confidence if parsed.tempo.type == "explicit" else 0.0),
            ("key", parsed.key_signature.confidence),
            ("mood", max((m.confidence for m in parsed.mood), default=0.0)),
            ("instrumentation", 1.0 if parsed.instrumentation else 0.0),
            ("structure", parsed.structure.confidence),
        )
        if confidence >= 0.6
    }
    suggestions = [
        CodexSuggestion(
            type=a.type,
            original_value=_original_value(a.type, original.parameters, stated),
            suggested_value=a.value,
            confidence=a.confidence,
            reasoning=a.reasoning,
        )
        for a in outcome.enhancement.additions
    ]
    session_id = service.open_session(
        state,
        caller,
        body.prompt,
        enhanced=outcome.enhancement.enhanced_prompt,
        understanding=enhanced,
    )
    service.record_additions(state, caller, session_id, outcome.enhancement.additions)
    return CodexEnhanceResponse(
        original_prompt=body.prompt,
        enhanced_prompt=outcome.enhancement.enhanced_prompt,
        suggestions=suggestions,
        structured_parameters=_structured(enhanced.parameters),
        codex_metadata=CodexMetadata(
            model_version=_model_version(state, outcome.implementation),
            processing_time_ms=round((time.perf_counter() - start) * 1000, 3),
            tokens_used=0,
            implementation=outcome.implementation.value,
            cache_hit=outcome.cache_hit,
        ),
        notices=outcome.notices,
    )


@router.post("/suggest", response_model=SuggestResponse)
def suggest(body: SuggestRequest, state: State, caller: Caller) -> SuggestResponse:
    """Suggestions for a prompt being typed (spec v1 §3.2.2)."""
    return aurora_routes.suggest_response(state, body)


def _midi_params(params: MusicalParameters) -> dict[str, Any]:
    kb = load_knowledge()
    tracks = []
    channel = 0
    for spec in params.instrumentation:
        record = kb.instruments.get(spec.name)
        drum = bool(record and record.drum)
        tracks.append(
            {
                "instrument": spec.name,
                "role": spec.role.value,
                "program": record.gm_program if record else 0,
                "channel": 9 if drum else channel,
            }
        )
        if not drum:
            channel = channel + 1 if channel + 1 != 9 else 10
    return {
        "tempo_bpm": params.tempo_bpm,
        "time_signature": params.time_signature,
        "key_signature": params.key,
        "tracks": tracks,
    }


@router.post("/translate", response_model=TranslateResponse)
def translate(body: TranslateRequest, state: State, caller: Caller) -> TranslateResponse:
    """A prompt as Control Encoder parameters, readable parameters and DDSP hints (spec v1 §3.2.3)."""
    understanding = service.understand(state, body.prompt, check_length=True)
    params = understanding.parameters
    full = body.target_format == "full"
    return TranslateResponse(
        control_encoder_params=control_encoder_params(service.embedding_of(understanding), params),
        human_readable_params=human_readable(params),
        ddsp_hints=ddsp_hints(params),
        musical_parameters=params if full else None,
        structural_plan=understanding.plan if full else None,
        midi_params=_midi_params(params) if body.target_format in ("midi_params", "full") else None,
    )


@router.post("/generate", response_model=CodexGeneration)
async def generate(
    body: GenerateRequest, request: Request, state: State, caller: Caller
) -> CodexGeneration:
    """Enhance, translate and generate (spec v1 §3.2.4); a job, like the aurora endpoint."""
    job_id = await run_in_threadpool(service.submit_generation, state, caller, body)
    job = await service.wait_for_job(state, caller, job_id, body.options.wait_seconds)
    view = generation_view(job, str(request.base_url))
    meta = view.generation_metadata
    aurora_ms = None
    if meta.total_time_ms is not None and meta.engine_time_ms is not None:
        aurora_ms = round(meta.total_time_ms - meta.engine_time_ms, 3)
    llm = view.implementation_used in ("codex", "local_llm")
    return CodexGeneration(
        generation_id=view.generation_id,
        status=view.status,
        audio_url=view.audio_url,
        enhanced_prompt=view.enhanced_prompt,
        parameters_used=view.parameters_used,
        generation_metadata=CodexGenerationMetadata(
            total_time_ms=meta.total_time_ms,
            codex_time_ms=aurora_ms if llm else 0.0 if aurora_ms is not None else None,
            aurora_time_ms=aurora_ms,
            engine_time_ms=meta.engine_time_ms,
        ),
        progress=view.progress,
        error=view.error,
    )


@router.get("/history", response_model=HistoryResponse)
def history(
    request: Request,
    state: State,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    sort: Literal["newest", "oldest"] = "newest",
) -> HistoryResponse:
    """The caller's enhancement and generation history (spec v1 §3.2.5)."""
    return aurora_routes.history(request, state, caller, limit=limit, offset=offset, sort=sort)


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(body: FeedbackRequest, state: State, caller: Caller) -> FeedbackResponse:
    """Feedback on a generation (spec v1 §3.2.6), throttled to one per 5 s."""
    service.give_feedback(state, caller, body)
    return FeedbackResponse(success=True, message="Feedback submitted successfully")
