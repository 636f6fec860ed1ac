"""Initial schema: users, API keys and the spec v2 §7.1 tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _rating(column: str) -> str:
    return f"{column} IS NULL OR ({column} >= 1 AND {column} <= 5)"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        _ts("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_index(op.f("ix_api_keys_prefix"), "api_keys", ["prefix"])

    op.create_table(
        "aurora_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("original_prompt", sa.Text(), nullable=False),
        sa.Column("enhanced_prompt", sa.Text(), nullable=True),
        sa.Column("parsed_parameters", sa.JSON(), nullable=True),
        sa.Column("structural_plan", sa.JSON(), nullable=True),
        sa.Column("control_embedding", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("implementation_used", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aurora_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_aurora_sessions_user_id_users")
        ),
        sa.CheckConstraint(
            _in("status", ("pending", "processing", "completed", "failed")),
            name=op.f("ck_aurora_sessions_status"),
        ),
        sa.CheckConstraint(
            _in("implementation_used", ("codex", "local_llm", "rule_based", "defaults")),
            name=op.f("ck_aurora_sessions_implementation_used"),
        ),
    )
    op.create_index(op.f("ix_aurora_sessions_user_id"), "aurora_sessions", ["user_id"])
    op.create_index(op.f("ix_aurora_sessions_status"), "aurora_sessions", ["status"])
    op.create_index(
        "ix_aurora_sessions_user_id_created_at", "aurora_sessions", ["user_id", "created_at"]
    )

    op.create_table(
        "aurora_suggestions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("suggestion_type", sa.String(64), nullable=False),
        sa.Column("original_value", sa.Text(), nullable=True),
        sa.Column("suggested_value", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(3, 2), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("user_accepted", sa.Boolean(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aurora_suggestions")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["aurora_sessions.id"],
            name=op.f("fk_aurora_suggestions_session_id_aurora_sessions"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            _in(
                "module",
                ("prompt_enhancer", "semantic_parser", "parameter_mapper", "structural_planner"),
            ),
            name=op.f("ck_aurora_suggestions_module"),
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_aurora_suggestions_confidence")
        ),
    )
    op.create_index(op.f("ix_aurora_suggestions_session_id"), "aurora_suggestions", ["session_id"])

    op.create_table(
        "refinements",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refinements")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["aurora_sessions.id"],
            name=op.f("fk_refinements_session_id_aurora_sessions"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            _in("source", ("accepted", "edited", "rejected")), name=op.f("ck_refinements_source")
        ),
    )
    op.create_index(op.f("ix_refinements_session_id"), "refinements", ["session_id"])

    op.create_table(
        "generation_results",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(64), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        _ts("lease_expires_at", nullable=True),
        _ts("heartbeat_at", nullable=True),
        sa.Column("audio_url", sa.Text(), nullable=True),
        sa.Column("audio_duration_seconds", sa.Numeric(10, 2), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("output_format", sa.String(16), nullable=True),
        sa.Column("total_time_ms", sa.Integer(), nullable=True),
        sa.Column("aurora_time_ms", sa.Integer(), nullable=True),
        sa.Column("engine_time_ms", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_results")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generation_results_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["aurora_sessions.id"],
            name=op.f("fk_generation_results_session_id_aurora_sessions"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            _in("status", ("queued", "processing", "completed", "failed")),
            name=op.f("ck_generation_results_status"),
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 1", name=op.f("ck_generation_results_progress")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_generation_results_attempts")),
    )
    op.create_index(op.f("ix_generation_results_session_id"), "generation_results", ["session_id"])
    op.create_index(
        "ix_generation_results_user_id_created_at", "generation_results", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_generation_results_status_created_at", "generation_results", ["status", "created_at"]
    )

    op.create_table(
        "user_feedback",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("result_id", sa.String(36), nullable=True),
        sa.Column("feedback_type", sa.String(16), nullable=False),
        sa.Column("prompt_quality_rating", sa.Integer(), nullable=True),
        sa.Column("suggestion_relevance_rating", sa.Integer(), nullable=True),
        sa.Column("audio_quality_rating", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_feedback")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_feedback_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["aurora_sessions.id"],
            name=op.f("fk_user_feedback_session_id_aurora_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["generation_results.id"],
            name=op.f("fk_user_feedback_result_id_generation_results"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            _in("feedback_type", ("positive", "negative", "neutral")),
            name=op.f("ck_user_feedback_feedback_type"),
        ),
        sa.CheckConstraint(
            _rating("prompt_quality_rating"), name=op.f("ck_user_feedback_prompt_quality_rating")
        ),
        sa.CheckConstraint(
            _rating("suggestion_relevance_rating"),
            name=op.f("ck_user_feedback_suggestion_relevance_rating"),
        ),
        sa.CheckConstraint(
            _rating("audio_quality_rating"), name=op.f("ck_user_feedback_audio_quality_rating")
        ),
        sa.CheckConstraint(
            "session_id IS NOT NULL OR result_id IS NOT NULL", name=op.f("ck_user_feedback_target")
        ),
    )
    op.create_index(op.f("ix_user_feedback_session_id"), "user_feedback", ["session_id"])
    op.create_index(op.f("ix_user_feedback_result_id"), "user_feedback", ["result_id"])
    op.create_index(
        "ix_user_feedback_user_id_created_at", "user_feedback", ["user_id", "created_at"]
    )


def downgrade() -> None:
    for table in (
        "user_feedback",
        "generation_results",
        "refinements",
        "aurora_suggestions",
        "aurora_sessions",
        "api_keys",
        "users",
    ):
        op.drop_table(table)
