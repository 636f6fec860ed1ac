"""Request and response bodies of the HTTP API, field for field as the specs give them.

Aurora endpoints follow spec v2 §5.2; codex endpoints spec v1 §3.2. Soundstar
adds a few fields (notices, session_id, musical_parameters) that the spec's
shapes tolerate as extra keys; it never removes or renames one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from soundstar.audio.listen import ClipAnalysis
from soundstar.controls import CONTROLS, check_parameter_fields
from soundstar.loops import LOOP_BARS_MAX
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    Exclusions,
    MusicalParameters,
    Notice,
    ParsedParameters,
    StructuralPlan,
)

EnhancementLevel = Literal["minimal", "moderate", "aggressive"]
AudioFormat = Literal["wav", "mp3", "flac"]
SampleRate = Literal[22050, 32000, 44100, 48000]
FeedbackType = Literal["positive", "negative", "neutral"]
PROMPT_FIELD_MAX = 5000  # the 10–500 rule is checked after normalization, with the spec's error


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in a JSON value (keys included); iterative,
    so a deeply nested body cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _given(name: str) -> dict[str, Any]:
    """JSON Schema for "`name` is present and not null" (for one-of-these-fields rules)."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


class _Body(BaseModel):
    """A request body: unknown fields, loose types (`false` for a number) and NUL
    characters are refused, as the OpenAPI schema says (no store can keep a NUL)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- requests


class EnhanceContext(_Body):
    genre_hint: str | None = Field(default=None, max_length=100)
    mood_hint: str | None = Field(default=None, max_length=100)
    duration_hint: float | None = Field(default=None, ge=DURATION_MIN_S, le=DURATION_MAX_S)


class EnhanceRequest(_Body):
    prompt: str = Field(min_length=1, max_length=PROMPT_FIELD_MAX)
    context: EnhanceContext | None = None
    enhancement_level: EnhancementLevel = "moderate"


class SuggestRequest(_Body):
    partial_prompt: str = Field(max_length=500)
    cursor_position: int | None = Field(default=None, ge=0, le=500)
    suggestion_count: int = Field(default=3, ge=1, le=5)


class ParseRequest(_Body):
    prompt: str = Field(min_length=1, max_length=PROMPT_FIELD_MAX)


class TranslateRequest(_Body):
    prompt: str = Field(min_length=1, max_length=PROMPT_FIELD_MAX)
    target_format: Literal["control_encoder", "midi_params", "full"] = "control_encoder"


class PlanParameters(_Body):
    genre: str = Field(min_length=1, max_length=100)
    mood: str = Field(min_length=1, max_length=200)
    tempo_bpm: float = Field(ge=TEMPO_MIN_BPM, le=TEMPO_MAX_BPM)
    duration_seconds: float = Field(ge=DURATION_MIN_S, le=DURATION_MAX_S)
    sub_genre: str | None = Field(default=None, max_length=100)
    key: str | None = Field(default=None, max_length=30, description="e.g. 'A minor'")
    time_signature: str | None = Field(default=None, max_length=8)
    energy_level: float | None = Field(default=None, ge=0.0, le=1.0)
    structure: str | None = Field(default=None, max_length=100)
    instrumentation: list[str] | None = Field(default=None, max_length=16)
    chord_progression: list[str] | None = Field(default=None, min_length=1, max_length=32)
    exclusions: Exclusions | None = Field(default=None, description="what to leave out")


class PlanRequest(_Body):
    parameters: PlanParameters


class GenerateOptions(_Body):
    enhance_prompt: bool = True
    duration_seconds: float = Field(default=30.0, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    output_format: AudioFormat = "wav"
    sample_rate: SampleRate = 44100
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    wait_seconds: float = Field(
        default=0.0,
        ge=0.0,
        le=60.0,
        description="wait this long for the result before answering 'queued'",
    )
    enhancement_level: EnhancementLevel = "moderate"
    stems: bool = True
    loop: bool = Field(
        default=False, description="a seamless loop: whole bars at the exact tempo, tails wrapped"
    )
    bars: int | None = Field(
        default=None, ge=1, le=LOOP_BARS_MAX, description="bars in the loop (default 8)"
    )


ControlName = Annotated[str, Field(min_length=1, max_length=100)]
ControlValue = str | int | float | list[Annotated[str, Field(max_length=200)]]


class GenerateRequest(_Body):
    """A generation; `parameters`, `plan` and `controls` are what the CLI's `--params`,
    `--plan-in` and `--set` give, read by the same functions (soundstar.controls): the
    control fields of `parameters` are checked as `--set` checks them (a ParameterError
    naming the control and its range, raised through validation as it stands)."""

    prompt: str = Field(min_length=1, max_length=PROMPT_FIELD_MAX)
    options: GenerateOptions = GenerateOptions()
    parameters: MusicalParameters | None = Field(
        default=None, description="the parameters to generate with, as adjusted by the person"
    )
    plan: StructuralPlan | None = Field(default=None, description="an edited structural plan")
    controls: dict[ControlName, ControlValue] | None = Field(
        default=None,
        max_length=64,
        description="controls set by name, as `soundstar generate --set NAME=VALUE` takes "
        "them, applied over `parameters` (else the prompt's) and `plan`: "
        + ", ".join([*CONTROLS, "sections.NAME.energy", "sections.N.energy"])
        + ' (e.g. {"tempo_bpm": 100, "sections.chorus.energy": 0.9})',
        examples=[{"tempo_bpm": 100, "key": "D minor", "sections.chorus.energy": 0.9}],
    )
    session_id: str | None = Field(default=None, max_length=64)
    like: ClipAnalysis | None = Field(
        default=None,
        description="an analysis from POST /api/v1/analyze: its tempo, key, meter and energy "
        "are used where the prompt does not state them",
    )

    @field_validator("parameters", mode="before")
    @classmethod
    def _controls_read_as_set(cls, value: Any) -> Any:
        if isinstance(value, dict):
            check_parameter_fields(value, "parameters")
        return value


class FeedbackDetails(_Body):
    prompt_quality: int | None = Field(default=None, ge=1, le=5)
    suggestion_relevance: int | None = Field(default=None, ge=1, le=5)
    audio_quality: int | None = Field(default=None, ge=1, le=5)
    comments: str | None = Field(default=None, max_length=5000)


class FeedbackRequest(_Body):
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [_given("generation_id"), _given("session_id")]}
    )

    generation_id: str | None = Field(default=None, max_length=64)
    session_id: str | None = Field(default=None, max_length=64)
    feedback_type: FeedbackType
    feedback_details: FeedbackDetails | None = None


class RefinementRequest(_Body):
    """A change the person made, in spec v2's words (`field`, `old_value`, `new_value`,
    `source`) or spec v1 §6's (`parameter_name`, `original_value`, `refined_value`,
    `refinement_source`); a v1 source implies the v2 one (suggestion_accepted: accepted,
    the others: edited)."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"anyOf": [_given("field"), _given("parameter_name")]},
                {"anyOf": [_given("source"), _given("refinement_source")]},
            ]
        }
    )

    session_id: str = Field(min_length=1, max_length=64)
    field: str | None = Field(default=None, min_length=1, max_length=64)
    parameter_name: str | None = Field(default=None, min_length=1, max_length=64)
    old_value: str | None = Field(default=None, max_length=2000)
    original_value: str | None = Field(default=None, max_length=2000)
    new_value: str | None = Field(default=None, max_length=2000)
    refined_value: str | None = Field(default=None, max_length=2000)
    source: Literal["accepted", "edited", "rejected"] | None = None
    refinement_source: Literal["manual", "suggestion_accepted", "slider", "preset"] | None = None

    @model_validator(mode="after")
    def _one_vocabulary_is_enough(self) -> RefinementRequest:
        if self.field is None and self.parameter_name is None:
            raise ValueError("give the field (or parameter_name) that was changed")
        if self.source is None and self.refinement_source is None:
            raise ValueError("give the source (or refinement_source) of the change")
        return self

    def to_record(self) -> dict[str, Any]:
        """The stored refinement: v2 names, with the v1 source kept beside."""
        implied = "accepted" if self.refinement_source == "suggestion_accepted" else "edited"
        return {
            "session_id": self.session_id,
            "field": self.field or self.parameter_name,
            "old_value": self.old_value if self.old_value is not None else self.original_value,
            "new_value": self.new_value if self.new_value is not None else self.refined_value,
            "source": self.source or implied,
            "refinement_source": self.refinement_source,
        }


class EmbeddingItem(_Body):
    type: str = Field(max_length=32, description="genre, mood or instrumentation")
    value: str = Field(max_length=200)


class BatchEmbeddingsRequest(_Body):
    requests: list[EmbeddingItem] = Field(min_length=1, max_length=100)


# --------------------------------------------------------------------------- responses


class AuroraMetadata(BaseModel):
    module: str
    implementation: str
    processing_time_ms: float
    cache_hit: bool = False
    fallback_used: bool = False
    fallback_reason: str | None = None


class Addition(BaseModel):
    type: str
    value: str
    reasoning: str
    confidence: float


class EnhanceResponse(BaseModel):
    original_prompt: str
    enhanced_prompt: str
    additions: list[Addition]
    aurora_metadata: AuroraMetadata
    notices: list[Notice] = Field(default_factory=list)
    session_id: str | None = None


class SuggestionOut(BaseModel):
    text: str
    type: Literal["completion", "addition", "replacement"]
    insert_position: int
    confidence: float


class InferredContext(BaseModel):
    likely_genre: str | None
    likely_mood: str | None


class SuggestResponse(BaseModel):
    suggestions: list[SuggestionOut]
    inferred_context: InferredContext
    aurora_metadata: AuroraMetadata | None = None


class ControlEncoderParams(BaseModel):
    genre_embedding: list[float]
    tempo_normalized: float
    mood_embedding: list[float]
    instrumentation_embedding: list[float]
    structure_embedding: list[float]
    energy_level: float
    valence: float
    danceability: float


class ParseResponse(BaseModel):
    parsed_parameters: ParsedParameters
    control_encoder_params: ControlEncoderParams
    musical_parameters: MusicalParameters
    structural_plan: StructuralPlan
    aurora_metadata: AuroraMetadata
    notices: list[Notice] = Field(default_factory=list)
    session_id: str | None = None


class PlanResponse(BaseModel):
    structural_plan: StructuralPlan
    musical_parameters: MusicalParameters
    aurora_metadata: AuroraMetadata
    notices: list[Notice] = Field(default_factory=list)


class GenerationFiles(BaseModel):
    audio: str | None = None
    midi: str | None = None
    plan: str | None = None
    project: str | None = None
    stems: dict[str, str] = Field(default_factory=dict)


class GenerationMetadata(BaseModel):
    total_time_ms: float | None = None
    aurora_enhance_time_ms: float | None = None
    aurora_parse_time_ms: float | None = None
    aurora_plan_time_ms: float | None = None
    engine_time_ms: float | None = None
    implementation_used: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class Generation(BaseModel):
    generation_id: str
    status: Literal["queued", "processing", "completed", "failed"]
    progress: float
    stage: str | None = None
    audio_url: str | None = None
    files: GenerationFiles = Field(default_factory=GenerationFiles)
    prompt: str | None = None
    enhanced_prompt: str | None = None
    parsed_parameters: ParsedParameters | None = None
    parameters_used: MusicalParameters | None = None
    structural_plan: StructuralPlan | None = None
    generation_metadata: GenerationMetadata = Field(default_factory=GenerationMetadata)
    implementation_used: str | None = None
    fallback_used: bool = False
    fallback_reason: str | None = None
    notices: list[Notice] = Field(default_factory=list)
    stages_run: list[str] = Field(default_factory=list)
    stages_skipped: dict[str, str] = Field(default_factory=dict)
    engine: dict[str, Any] = Field(default_factory=dict)
    measured: dict[str, float] = Field(default_factory=dict)
    duration_seconds: float | None = None
    output_format: str | None = None
    sample_rate: int | None = None
    seed: int | None = Field(
        default=None, description="the seed used: the same seed, the same track"
    )
    attempts: int = 0
    error: ErrorDetail | None = None
    created_at: datetime
    completed_at: datetime | None = None


class HistoryEntry(BaseModel):
    id: str
    kind: Literal["generation", "enhancement"] = "generation"
    original_prompt: str
    enhanced_prompt: str | None
    parameters: dict[str, Any] | None
    audio_url: str | None
    created_at: datetime
    user_feedback: FeedbackType | None
    status: str
    duration_seconds: float | None = None
    output_format: str | None = None
    seed: int | None = None
    user_rating: int | None = Field(
        default=None, ge=1, le=5, description="the newest 1-5 audio rating the owner gave"
    )


class HistoryResponse(BaseModel):
    total_count: int
    items: list[HistoryEntry]


class FeedbackResponse(BaseModel):
    success: bool
    message: str


class RefinementResponse(BaseModel):
    id: str
    created_at: datetime
    field: str | None = None
    source: str | None = None
    refinement_source: str | None = None


class EmbeddingResult(_Open):
    type: str
    value: str
    embedding: list[float] | None = None
    error: str | None = None


class MeResponse(BaseModel):
    user: dict[str, Any]
    rate_limit_per_minute: int


# codex (spec v1 §3.2) -----------------------------------------------------------


class CodexSuggestion(BaseModel):
    type: str
    original_value: str | None
    suggested_value: str
    confidence: float
    reasoning: str


class CodexStructured(BaseModel):
    genre: str
    sub_genre: str | None
    tempo_bpm: float
    mood: str
    energy_level: float
    instrumentation: list[str]
    structure: str
    key_signature: str | None
    time_signature: str | None


class CodexMetadata(BaseModel):
    model_version: str
    processing_time_ms: float
    tokens_used: int
    implementation: str
    cache_hit: bool = False


class CodexEnhanceResponse(BaseModel):
    original_prompt: str
    enhanced_prompt: str
    suggestions: list[CodexSuggestion]
    structured_parameters: CodexStructured
    codex_metadata: CodexMetadata
    notices: list[Notice] = Field(default_factory=list)


class HumanReadable(BaseModel):
    genre: str
    tempo_bpm: float
    mood: str
    instrumentation: list[str]
    structure: str
    key: str
    time_signature: str


class DdspHints(BaseModel):
    f0_range: tuple[float, float]
    loudness_target: float
    harmonic_mix: float


class TranslateResponse(BaseModel):
    control_encoder_params: ControlEncoderParams
    human_readable_params: HumanReadable
    ddsp_hints: DdspHints
    musical_parameters: MusicalParameters | None = None
    structural_plan: StructuralPlan | None = None
    midi_params: dict[str, Any] | None = None


class CodexGenerationMetadata(BaseModel):
    total_time_ms: float | None = None
    codex_time_ms: float | None = None
    aurora_time_ms: float | None = None
    engine_time_ms: float | None = None


class CodexGeneration(BaseModel):
    generation_id: str
    status: Literal["queued", "processing", "completed", "failed"]
    audio_url: str | None
    enhanced_prompt: str | None
    parameters_used: MusicalParameters | None
    generation_metadata: CodexGenerationMetadata
    progress: float = 0.0
    error: ErrorDetail | None = None


class ErrorBodyDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """Every error the service answers: `{"error": {"code", "message"}}` (+ the field at fault)."""

    error: ErrorBodyDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("INVALID_PROMPT or CONTENT_POLICY_VIOLATION"),
    401: _error("UNAUTHORIZED: no API key, or an unknown or revoked one"),
    404: _error("NOT_FOUND: no such resource for this user"),
    422: _error("VALIDATION_ERROR: a field is missing or out of range; `field` names it"),
    429: _error("RATE_LIMITED: wait the seconds in the Retry-After header"),
    500: _error("INTERNAL_ERROR"),
    502: _error("AURORA_PARSE_ERROR / AURORA_VALIDATION_ERROR from an LLM backend"),
    503: _error("a backend is unavailable"),
    504: _error("a backend timed out"),
}
