"""Jobs: clip and snapshot requests with progress and result; labels and note on media objects.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:20:57.644598+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("params_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        sa.Column("result_media_id", sa.String(length=40), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('clip', 'snapshot')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed')", name=op.f("ck_jobs_status")
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name=op.f("ck_jobs_progress_range")),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_jobs_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_media_id"],
            ["media_objects.id"],
            name=op.f("fk_jobs_result_media_id_media_objects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("media_id", "kind", "params_key", name="uq_jobs_media_kind_params"),
    )
    op.create_index("ix_jobs_media_created", "jobs", ["media_id", "created_at", "id"], unique=False)
    op.add_column(
        "media_objects", sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("media_objects", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("media_objects", "note")
    op.drop_column("media_objects", "labels")
    op.drop_index("ix_jobs_media_created", table_name="jobs")
    op.drop_table("jobs")
