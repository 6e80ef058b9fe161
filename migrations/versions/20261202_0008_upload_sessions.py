"""Upload sessions: resumable uploads (a Cloud Storage session, an S3 multipart upload).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_sessions",
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("upload_id", sa.Text(), nullable=True),
        sa.Column("chunk_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "protocol IN ('gcs_resumable', 's3_multipart')",
            name=op.f("ck_upload_sessions_protocol"),
        ),
        sa.CheckConstraint(
            "chunk_size_bytes > 0", name=op.f("ck_upload_sessions_chunk_size_positive")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_upload_sessions_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_upload_sessions")),
    )


def downgrade() -> None:
    op.drop_table("upload_sessions")
