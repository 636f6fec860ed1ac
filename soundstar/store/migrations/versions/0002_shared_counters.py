"""Counters shared by every process, and spec v1 refinement fields.

`rate_buckets`: the rate limiter's token buckets when no Redis is configured, so
limits hold across processes. `worker_counters`: each worker process's cumulative
counters (Aurora cache hits and misses), summed by /metrics. `refinements` gains
`refinement_source` (spec v1 §6: manual, suggestion_accepted, slider, preset), and
finished jobs are indexed by `completed_at` for the metrics that follow them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "worker_counters",
        sa.Column("worker_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "name", name=op.f("pk_worker_counters")),
    )
    with op.batch_alter_table("refinements") as batch:
        batch.add_column(sa.Column("refinement_source", sa.String(32), nullable=True))
    op.create_index("ix_generation_results_completed_at", "generation_results", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_generation_results_completed_at", table_name="generation_results")
    with op.batch_alter_table("refinements") as batch:
        batch.drop_column("refinement_source")
    op.drop_table("worker_counters")
    op.drop_table("rate_buckets")
