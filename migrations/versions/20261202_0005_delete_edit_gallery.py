"""Delete (deleting / deleted tombstones), edits with revisions, pins, gallery indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES = (
    "'pending_upload', 'uploaded', 'verified', 'processing', 'processed', 'rejected', 'failed'"
)
UNFINISHED_BEFORE = "status IN ('pending_upload', 'uploaded', 'verified', 'processing')"
UNFINISHED = "status IN ('pending_upload', 'uploaded', 'verified', 'processing', 'deleting')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_media_objects_status"), "media_objects", type_="check")
    op.create_check_constraint(
        op.f("ck_media_objects_status"),
        "media_objects",
        f"status IN ({STATUSES}, 'deleting', 'deleted')",
    )
    op.add_column(
        "media_objects", sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "media_objects",
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "media_objects", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("media_objects", sa.Column("deleted_by", sa.String(length=256), nullable=True))
    op.drop_index("ix_media_objects_unfinished", table_name="media_objects")
    op.create_index(
        "ix_media_objects_unfinished",
        "media_objects",
        ["status", "updated_at"],
        postgresql_where=sa.text(UNFINISHED),
    )
    op.create_index(
        "ix_media_objects_device_camera_captured",
        "media_objects",
        ["device_id", "camera_id", "captured_at", "id"],
    )
    op.create_index(
        "ix_media_objects_parent_captured",
        "media_objects",
        ["parent_id", "captured_at", "id"],
        postgresql_where=sa.text("parent_id IS NOT NULL"),
    )
    op.create_index(
        "ix_media_objects_labels",
        "media_objects",
        ["labels"],
        postgresql_using="gin",
        postgresql_ops={"labels": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_media_objects_labels", table_name="media_objects")
    op.drop_index("ix_media_objects_parent_captured", table_name="media_objects")
    op.drop_index("ix_media_objects_device_camera_captured", table_name="media_objects")
    op.drop_index("ix_media_objects_unfinished", table_name="media_objects")
    op.create_index(
        "ix_media_objects_unfinished",
        "media_objects",
        ["status", "updated_at"],
        postgresql_where=sa.text(UNFINISHED_BEFORE),
    )
    op.drop_column("media_objects", "deleted_by")
    op.drop_column("media_objects", "deleted_at")
    op.drop_column("media_objects", "pinned")
    op.drop_column("media_objects", "revision")
    op.execute(
        "UPDATE media_objects SET parent_id = NULL WHERE parent_id IN "
        "(SELECT id FROM media_objects WHERE status IN ('deleting', 'deleted'))"
    )
    op.execute(
        "UPDATE jobs SET result_media_id = NULL WHERE result_media_id IN "
        "(SELECT id FROM media_objects WHERE status IN ('deleting', 'deleted'))"
    )
    op.execute("DELETE FROM media_objects WHERE status IN ('deleting', 'deleted')")
    op.drop_constraint(op.f("ck_media_objects_status"), "media_objects", type_="check")
    op.create_check_constraint(
        op.f("ck_media_objects_status"), "media_objects", f"status IN ({STATUSES})"
    )
