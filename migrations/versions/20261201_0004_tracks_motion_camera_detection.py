"""Tracks, motion segments, per-camera detection overrides, analysis summary, track of a box,
original file names.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "media_objects",
        sa.Column("analysis", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("detections", sa.Column("track_id", sa.Integer(), nullable=True))
    op.add_column(
        "media_objects", sa.Column("original_filename", sa.String(length=255), nullable=True)
    )
    op.create_table(
        "tracks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_ms", sa.BigInteger(), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("median_score", sa.Float(), nullable=False),
        sa.Column("best_time_ms", sa.BigInteger(), nullable=True),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("boxes", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("snapshot_bucket", sa.String(length=222), nullable=True),
        sa.Column("snapshot_object_name", sa.String(length=1024), nullable=True),
        sa.Column("snapshot_width_px", sa.Integer(), nullable=True),
        sa.Column("snapshot_height_px", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "best_score >= 0 AND best_score <= 1", name=op.f("ck_tracks_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_tracks_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
        sa.UniqueConstraint("media_id", "track_id", name="uq_tracks_media_track"),
    )
    op.create_table(
        "motion_segments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("area_px", sa.BigInteger(), nullable=False),
        sa.Column("area_fraction", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_motion_segments_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_motion_segments")),
    )
    op.create_index(
        op.f("ix_motion_segments_media_id"), "motion_segments", ["media_id"], unique=False
    )
    op.create_table(
        "camera_detection_configs",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("camera_id", sa.String(length=128), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("device_id", "camera_id", name=op.f("pk_camera_detection_configs")),
    )


def downgrade() -> None:
    op.drop_table("camera_detection_configs")
    op.drop_index(op.f("ix_motion_segments_media_id"), table_name="motion_segments")
    op.drop_table("motion_segments")
    op.drop_table("tracks")
    op.drop_column("media_objects", "original_filename")
    op.drop_column("detections", "track_id")
    op.drop_column("media_objects", "analysis")
