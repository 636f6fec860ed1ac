"""The database tables as SQLAlchemy 2 declarative models (spec v2 §7.1 plus users and keys).

Alembic migrations own the schema; these classes describe it for queries and must
stay in step with `migrations/versions`. Enumerations are strings with CHECK
constraints rather than native ENUM types, so both backends migrate the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from soundstar.store.types import UTCDateTime, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SESSION_STATUSES = ("pending", "processing", "completed", "failed")
IMPLEMENTATIONS = ("codex", "local_llm", "rule_based", "defaults")
SUGGESTION_MODULES = (
    "prompt_enhancer",
    "semantic_parser",
    "parameter_mapper",
    "structural_planner",
)
REFINEMENT_SOURCES = ("accepted", "edited", "rejected")
JOB_STATUSES = ("queued", "processing", "completed", "failed")
FEEDBACK_TYPES = ("positive", "negative", "neutral")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that `column` holds one of `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def rating_check(column: str) -> str:
    """SQL text for a CHECK that a rating is NULL or 1–5."""
    return f"{column} IS NULL OR ({column} >= 1 AND {column} <= 5)"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuroraSession(Base):
    __tablename__ = "aurora_sessions"
    __table_args__ = (
        CheckConstraint(one_of("status", SESSION_STATUSES), name="status"),
        CheckConstraint(one_of("implementation_used", IMPLEMENTATIONS), name="implementation_used"),
        Index("ix_aurora_sessions_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    original_prompt: Mapped[str] = mapped_column(Text)
    enhanced_prompt: Mapped[str | None] = mapped_column(Text)
    parsed_parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    structural_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    control_embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    implementation_used: Mapped[str] = mapped_column(String(16), default="rule_based")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class AuroraSuggestion(Base):
    __tablename__ = "aurora_suggestions"
    __table_args__ = (
        CheckConstraint(one_of("module", SUGGESTION_MODULES), name="module"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("aurora_sessions.id", ondelete="CASCADE"), index=True
    )
    module: Mapped[str] = mapped_column(String(32))
    suggestion_type: Mapped[str] = mapped_column(String(64))
    original_value: Mapped[str | None] = mapped_column(Text)
    suggested_value: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False))
    reasoning: Mapped[str | None] = mapped_column(Text)
    user_accepted: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Refinement(Base):
    __tablename__ = "refinements"
    __table_args__ = (CheckConstraint(one_of("source", REFINEMENT_SOURCES), name="source"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("aurora_sessions.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    refinement_source: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class GenerationJob(Base):
    """`generation_results`: the spec's result row, doubling as the job queue's table."""

    __tablename__ = "generation_results"
    __table_args__ = (
        CheckConstraint(one_of("status", JOB_STATUSES), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_generation_results_user_id_created_at", "user_id", "created_at"),
        Index("ix_generation_results_status_created_at", "status", "created_at"),
        Index("ix_generation_results_completed_at", "completed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("aurora_sessions.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audio_url: Mapped[str | None] = mapped_column(Text)
    audio_duration_seconds: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False))
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    output_format: Mapped[str | None] = mapped_column(String(16))
    total_time_ms: Mapped[int | None] = mapped_column(Integer)
    aurora_time_ms: Mapped[int | None] = mapped_column(Integer)
    engine_time_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Feedback(Base):
    __tablename__ = "user_feedback"
    __table_args__ = (
        CheckConstraint(one_of("feedback_type", FEEDBACK_TYPES), name="feedback_type"),
        CheckConstraint(rating_check("prompt_quality_rating"), name="prompt_quality_rating"),
        CheckConstraint(
            rating_check("suggestion_relevance_rating"), name="suggestion_relevance_rating"
        ),
        CheckConstraint(rating_check("audio_quality_rating"), name="audio_quality_rating"),
        CheckConstraint("session_id IS NOT NULL OR result_id IS NOT NULL", name="target"),
        Index("ix_user_feedback_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("aurora_sessions.id", ondelete="CASCADE"), index=True
    )
    result_id: Mapped[str | None] = mapped_column(
        ForeignKey("generation_results.id", ondelete="CASCADE"), index=True
    )
    feedback_type: Mapped[str] = mapped_column(String(16))
    prompt_quality_rating: Mapped[int | None] = mapped_column(Integer)
    suggestion_relevance_rating: Mapped[int | None] = mapped_column(Integer)
    audio_quality_rating: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RateBucket(Base):
    """A rate limiter's token bucket, shared by every process on the database."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)


class WorkerCounter(Base):
    """One worker process's cumulative count of something (cache hits, misses)."""

    __tablename__ = "worker_counters"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
