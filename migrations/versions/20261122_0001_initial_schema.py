"""Initial schema: media objects, detections, derivatives, status history, device owners.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:02:57.089718+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_owners",
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id", "device_id", name=op.f("pk_device_owners")),
    )
    op.create_index(
        op.f("ix_device_owners_device_id"), "device_owners", ["device_id"], unique=False
    )
    op.create_table(
        "media_objects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("camera_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="capture", nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=24), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_sha256", sa.String(length=64), nullable=True),
        sa.Column("verified_md5", sa.String(length=24), nullable=True),
        sa.Column("sampling_id", sa.String(length=17), nullable=True),
        sa.Column("actual_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("bucket", sa.String(length=222), nullable=False),
        sa.Column("object_name", sa.String(length=1024), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=True),
        sa.Column("gcs_uri", sa.Text(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=True),
        sa.Column("height_px", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("video_codec", sa.String(length=32), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="pending_upload", nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
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
        sa.CheckConstraint(
            "kind IN ('capture', 'clip', 'snapshot')", name=op.f("ck_media_objects_kind")
        ),
        sa.CheckConstraint(
            "media_type IN ('image', 'video')", name=op.f("ck_media_objects_media_type")
        ),
        sa.CheckConstraint(
            "status IN ('pending_upload', 'uploaded', 'verified', 'processing', 'processed', "
            "'rejected', 'failed')",
            name=op.f("ck_media_objects_status"),
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_media_objects_size_nonnegative")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["media_objects.id"],
            name=op.f("fk_media_objects_parent_id_media_objects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_objects")),
        sa.UniqueConstraint("bucket", "object_name", name="uq_media_objects_bucket_object"),
        sa.UniqueConstraint(
            "device_id", "camera_id", "message_id", name="uq_media_objects_device_camera_message"
        ),
    )
    op.create_index(
        "ix_media_objects_device_captured",
        "media_objects",
        ["device_id", "captured_at", "id"],
        unique=False,
    )
    op.create_table(
        "derivatives",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.String(length=222), nullable=False),
        sa.Column("object_name", sa.String(length=1024), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('thumbnail', 'poster')", name=op.f("ck_derivatives_kind")),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_derivatives_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_derivatives")),
        sa.UniqueConstraint("media_id", "kind", name="uq_derivatives_media_kind"),
    )
    op.create_table(
        "detections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("score >= 0 AND score <= 1", name=op.f("ck_detections_score_range")),
        sa.CheckConstraint("w >= 0 AND h >= 0", name=op.f("ck_detections_box_size")),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_detections_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detections")),
    )
    op.create_index(op.f("ix_detections_media_id"), "detections", ["media_id"], unique=False)
    op.create_table(
        "status_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(length=256), nullable=True),
        sa.Column("generation", sa.BigInteger(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_status_history_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_history")),
    )
    op.create_index(
        op.f("ix_status_history_media_id"), "status_history", ["media_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_status_history_media_id"), table_name="status_history")
    op.drop_table("status_history")
    op.drop_index(op.f("ix_detections_media_id"), table_name="detections")
    op.drop_table("detections")
    op.drop_table("derivatives")
    op.drop_index("ix_media_objects_device_captured", table_name="media_objects")
    op.drop_table("media_objects")
    op.drop_index(op.f("ix_device_owners_device_id"), table_name="device_owners")
    op.drop_table("device_owners")
