"""What goes into and comes out of the repositories: small pydantic models.

Rows never leave the store; callers see these records, built on the shared
contracts in `soundstar.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soundstar.models import (
    ControlEmbedding,
    GenerationResult,
    GenerationStatus,
    Implementation,
    ParsedParameters,
    StructuralPlan,
)

SessionStatus = Literal["pending", "processing", "completed", "failed"]
SuggestionModule = Literal[
    "prompt_enhancer", "semantic_parser", "parameter_mapper", "structural_planner"
]
RefinementSource = Literal["accepted", "edited", "rejected"]
RefinementOrigin = Literal["manual", "suggestion_accepted", "slider", "preset"]  # spec v1 §6
FeedbackType = Literal["positive", "negative", "neutral"]
HistorySort = Literal["newest", "oldest"]

HISTORY_LIMIT_DEFAULT = 20
HISTORY_LIMIT_MAX = 100


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRecord(_Record):
    id: int
    name: str
    email: str | None
    created_at: datetime


class ApiKeyRecord(_Record):
    """A key as listed: the visible prefix, never the secret."""

    id: int
    user_id: int
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewApiKey(_Record):
    """A freshly made key: `token` is the plaintext, shown this once and stored only hashed."""

    token: str
    key: ApiKeyRecord


class SessionCreate(_Record):
    original_prompt: str = Field(min_length=1)
    enhanced_prompt: str | None = None
    parsed_parameters: ParsedParameters | None = None
    structural_plan: StructuralPlan | None = None
    control_embedding: ControlEmbedding | None = None
    status: SessionStatus = "pending"
    implementation_used: Implementation = Implementation.RULE_BASED


class SessionUpdate(_Record):
    """Fields to change; only those given are written (an explicit None clears one)."""

    enhanced_prompt: str | None = None
    parsed_parameters: ParsedParameters | None = None
    structural_plan: StructuralPlan | None = None
    control_embedding: ControlEmbedding | None = None
    status: SessionStatus | None = None
    implementation_used: Implementation | None = None


class SessionRecord(_Record):
    id: str
    user_id: int
    original_prompt: str
    enhanced_prompt: str | None
    parsed_parameters: ParsedParameters | None
    structural_plan: StructuralPlan | None
    control_embedding: ControlEmbedding | None
    status: SessionStatus
    implementation_used: Implementation
    created_at: datetime
    updated_at: datetime


class SuggestionCreate(_Record):
    session_id: str
    module: SuggestionModule
    suggestion_type: str = Field(min_length=1, max_length=64)
    original_value: str | None = None
    suggested_value: str
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str | None = None


class SuggestionRecord(SuggestionCreate):
    id: str
    user_accepted: bool | None
    created_at: datetime


class RefinementCreate(_Record):
    session_id: str
    field: str = Field(min_length=1, max_length=64)
    old_value: str | None = None
    new_value: str | None = None
    source: RefinementSource
    refinement_source: RefinementOrigin | None = None


class RefinementRecord(RefinementCreate):
    id: str
    created_at: datetime


class FeedbackCreate(_Record):
    """Feedback on a session, a generation, or both (at least one)."""

    session_id: str | None = None
    result_id: str | None = None
    feedback_type: FeedbackType
    prompt_quality_rating: int | None = Field(default=None, ge=1, le=5)
    suggestion_relevance_rating: int | None = Field(default=None, ge=1, le=5)
    audio_quality_rating: int | None = Field(default=None, ge=1, le=5)
    comments: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _has_target(self) -> FeedbackCreate:
        if self.session_id is None and self.result_id is None:
            raise ValueError("feedback needs a session_id or a result_id")
        return self


class FeedbackRecord(FeedbackCreate):
    id: str
    user_id: int
    created_at: datetime


class FinishedJob(_Record):
    """A job that ended: what /metrics counts (status, error code, stage timings)."""

    id: str
    status: str
    error_code: str | None = None
    completed_at: datetime
    timings_ms: dict[str, float] = Field(default_factory=dict)


class JobRecord(_Record):
    """A generation job: the queue's view and the stored result in one row."""

    id: str
    user_id: int
    session_id: str | None
    status: GenerationStatus
    stage: str | None
    progress: float
    request: dict[str, Any]
    result: GenerationResult | None
    files: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    heartbeat_at: datetime | None
    audio_url: str | None
    audio_duration_seconds: float | None
    sample_rate: int | None
    output_format: str | None
    total_time_ms: int | None
    aurora_time_ms: int | None
    engine_time_ms: int | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class HistoryItem(JobRecord):
    user_feedback: FeedbackType | None = Field(
        default=None, description="the newest feedback the owner gave on this generation"
    )


class EnhancementItem(_Record):
    """An enhance-only session in the history (spec v1 §3.2.5): a prompt that was
    enhanced and never generated."""

    id: str
    original_prompt: str
    enhanced_prompt: str | None
    created_at: datetime
    user_feedback: FeedbackType | None = None


class HistoryPage(_Record):
    total_count: int
    items: list[HistoryItem | EnhancementItem]


class RequeueReport(_Record):
    """What `requeue_expired` did: jobs put back in the queue, and jobs given up on."""

    requeued: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
