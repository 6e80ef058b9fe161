"""Ingest jobs, dedupe, quotas, the audit log, web renditions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("jobs", "media_id", nullable=True)
    op.add_column("jobs", sa.Column("device_id", sa.String(length=128), nullable=True))
    op.execute(
        "UPDATE jobs SET device_id = m.device_id FROM media_objects m WHERE m.id = jobs.media_id"
    )
    op.alter_column("jobs", "device_id", nullable=False)
    op.drop_constraint(op.f("ck_jobs_kind"), "jobs", type_="check")
    op.create_check_constraint(
        op.f("ck_jobs_kind"), "jobs", "kind IN ('clip', 'snapshot', 'ingest')"
    )
    # An ingest has no source media: its device and its parameters identify it.
    op.create_index(
        "uq_jobs_ingest_device_params",
        "jobs",
        ["device_id", "params_key"],
        unique=True,
        postgresql_where=sa.text("kind = 'ingest'"),
    )
    op.drop_constraint(op.f("ck_media_objects_kind"), "media_objects", type_="check")
    op.create_check_constraint(
        op.f("ck_media_objects_kind"),
        "media_objects",
        "kind IN ('upload', 'clip', 'snapshot', 'ingest')",
    )
    op.drop_constraint(op.f("ck_derivatives_kind"), "derivatives", type_="check")
    op.create_check_constraint(
        op.f("ck_derivatives_kind"), "derivatives", "kind IN ('thumbnail', 'poster', 'web')"
    )
    op.add_column(
        "device_settings", sa.Column("quota_bytes_per_day", sa.BigInteger(), nullable=True)
    )
    op.add_column("device_settings", sa.Column("quota_media_per_day", sa.Integer(), nullable=True))
    # Not unique: media stored twice before dedupe existed stay as they are (the oldest answers).
    op.create_index(
        "ix_media_objects_device_sha256",
        "media_objects",
        ["device_id", "sha256"],
        postgresql_where=sa.text("parent_id IS NULL"),
    )
    op.create_table(
        "quota_usage",
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("media", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("scope", "day", name=op.f("pk_quota_usage")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_media", "audit_events", ["media_id", "id"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor", "id"])
    op.create_index("ix_audit_events_device", "audit_events", ["device_id", "id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    # Append-only: no row of the audit log is ever changed or removed.
    op.execute(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_device", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_media", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("quota_usage")
    op.drop_index("ix_media_objects_device_sha256", table_name="media_objects")
    op.drop_column("device_settings", "quota_media_per_day")
    op.drop_column("device_settings", "quota_bytes_per_day")
    op.execute("DELETE FROM derivatives WHERE kind = 'web'")
    op.drop_constraint(op.f("ck_derivatives_kind"), "derivatives", type_="check")
    op.create_check_constraint(
        op.f("ck_derivatives_kind"), "derivatives", "kind IN ('thumbnail', 'poster')"
    )
    op.execute("DELETE FROM media_objects WHERE kind = 'ingest'")
    op.drop_constraint(op.f("ck_media_objects_kind"), "media_objects", type_="check")
    op.create_check_constraint(
        op.f("ck_media_objects_kind"), "media_objects", "kind IN ('upload', 'clip', 'snapshot')"
    )
    op.execute("DELETE FROM jobs WHERE kind = 'ingest'")
    op.drop_index("uq_jobs_ingest_device_params", table_name="jobs")
    op.drop_constraint(op.f("ck_jobs_kind"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_kind"), "jobs", "kind IN ('clip', 'snapshot')")
    op.drop_column("jobs", "device_id")
    op.alter_column("jobs", "media_id", nullable=False)
