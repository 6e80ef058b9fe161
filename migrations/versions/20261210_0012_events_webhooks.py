"""Events built from analysis tracks, per-camera event settings, webhook endpoints and deliveries.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def _jsonb() -> postgresql.JSONB:
    return postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "camera_event_settings",
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("labels", _jsonb(), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=True),
        sa.Column("clips", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("clip_pre_ms", sa.Integer(), server_default="5000", nullable=False),
        sa.Column("clip_post_ms", sa.Integer(), server_default="5000", nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint(
            "clip_pre_ms >= 0 AND clip_post_ms >= 0",
            name=op.f("ck_camera_event_settings_clip_padding"),
        ),
        sa.PrimaryKeyConstraint("device_id", "camera_id", name=op.f("pk_camera_event_settings")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("media_id", sa.String(40), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("best_media_id", sa.String(40), nullable=False),
        sa.Column("best_track_id", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), server_default="1", nullable=False),
        sa.Column("clip_job_id", sa.String(40), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint(
            "best_score >= 0 AND best_score <= 1", name=op.f("ck_events_score_range")
        ),
        sa.CheckConstraint("end_at >= start_at", name=op.f("ck_events_time_order")),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media_objects.id"], name=op.f("fk_events_media_id_media_objects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_device_start", "events", ["device_id", "start_at", "id"])
    op.create_index(
        "ix_events_device_camera_start", "events", ["device_id", "camera_id", "start_at", "id"]
    )
    op.create_index(
        "ix_events_device_label_start", "events", ["device_id", "label", "start_at", "id"]
    )
    op.create_index(
        "ix_events_device_unreviewed_start",
        "events",
        ["device_id", "start_at", "id"],
        postgresql_where=sa.text("reviewed_at IS NULL"),
    )
    op.create_index("ix_events_media", "events", ["media_id"])
    op.create_table(
        "event_segments",
        sa.Column("media_id", sa.String(40), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_segments_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_event_segments_media_id_media_objects"),
        ),
        sa.PrimaryKeyConstraint("media_id", "track_id", name=op.f("pk_event_segments")),
    )
    op.create_index(op.f("ix_event_segments_event_id"), "event_segments", ["event_id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("device_ids", _jsonb(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", _jsonb(), nullable=False),
        sa.Column("labels", _jsonb(), nullable=True),
        sa.Column("cameras", _jsonb(), nullable=True),
        sa.Column("description", sa.String(256), nullable=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(op.f("ix_webhook_endpoints_user_id"), "webhook_endpoints", ["user_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("payload", _jsonb(), nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("replays", sa.Integer(), server_default="0", nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'dead_lettered')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("endpoint_id", "dedupe_key", name="uq_webhook_deliveries_endpoint_key"),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_created",
        "webhook_deliveries",
        ["endpoint_id", "created_at", "id"],
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["updated_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("event_segments")
    op.drop_table("events")
    op.drop_table("camera_event_settings")
