"""Opaque object versions, reason codes, decode warnings, claims; kind `capture` becomes `upload`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNFINISHED = "status IN ('pending_upload', 'uploaded', 'verified', 'processing')"


def upgrade() -> None:
    # Object versions are opaque text (a GCS generation, an S3 version id).
    op.alter_column(
        "media_objects",
        "generation",
        new_column_name="object_version",
        type_=sa.String(length=1024),
        postgresql_using="generation::text",
    )
    op.alter_column(
        "status_history",
        "generation",
        new_column_name="object_version",
        type_=sa.String(length=1024),
        postgresql_using="generation::text",
    )
    op.alter_column("media_objects", "gcs_uri", new_column_name="storage_uri")
    # Reasons: a stable code beside the sentence.
    op.add_column("media_objects", sa.Column("status_reason_code", sa.String(64), nullable=True))
    op.add_column("status_history", sa.Column("reason_code", sa.String(64), nullable=True))
    op.add_column("jobs", sa.Column("error_code", sa.String(64), nullable=True))
    op.add_column(
        "media_objects",
        sa.Column("decode_warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    # Kinds: upload | clip | snapshot.
    op.drop_constraint(op.f("ck_media_objects_kind"), "media_objects", type_="check")
    op.execute("UPDATE media_objects SET kind = 'upload' WHERE kind = 'capture'")
    op.alter_column("media_objects", "kind", server_default="upload")
    op.create_check_constraint(
        op.f("ck_media_objects_kind"), "media_objects", "kind IN ('upload', 'clip', 'snapshot')"
    )
    # Indexes for the reconciler's scans.
    op.create_index(
        "ix_media_objects_unfinished",
        "media_objects",
        ["status", "updated_at"],
        postgresql_where=sa.text(UNFINISHED),
    )
    op.create_index(
        "ix_jobs_unfinished",
        "jobs",
        ["status", "updated_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "claims",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_claims")),
    )


def downgrade() -> None:
    op.drop_table("claims")
    op.drop_index("ix_jobs_unfinished", table_name="jobs")
    op.drop_index("ix_media_objects_unfinished", table_name="media_objects")
    op.drop_constraint(op.f("ck_media_objects_kind"), "media_objects", type_="check")
    op.execute("UPDATE media_objects SET kind = 'capture' WHERE kind = 'upload'")
    op.alter_column("media_objects", "kind", server_default="capture")
    op.create_check_constraint(
        op.f("ck_media_objects_kind"), "media_objects", "kind IN ('capture', 'clip', 'snapshot')"
    )
    op.drop_column("media_objects", "decode_warnings")
    op.drop_column("jobs", "error_code")
    op.drop_column("status_history", "reason_code")
    op.drop_column("media_objects", "status_reason_code")
    op.alter_column("media_objects", "storage_uri", new_column_name="gcs_uri")
    op.alter_column(
        "status_history",
        "object_version",
        new_column_name="generation",
        type_=sa.BigInteger(),
        postgresql_using="object_version::bigint",
    )
    op.alter_column(
        "media_objects",
        "object_version",
        new_column_name="generation",
        type_=sa.BigInteger(),
        postgresql_using="object_version::bigint",
    )
