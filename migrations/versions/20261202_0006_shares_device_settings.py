"""Share links, device settings (retention), the retention sweeper's index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=256), nullable=True),
        sa.Column("open_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_objects.id"],
            name=op.f("fk_shares_media_id_media_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_shares_token_sha256")),
    )
    op.create_index("ix_shares_media_created", "shares", ["media_id", "created_at"])
    op.create_table(
        "device_settings",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_settings")),
    )
    op.create_index(
        "ix_media_objects_captured_live",
        "media_objects",
        ["captured_at"],
        postgresql_where=sa.text("status NOT IN ('deleting', 'deleted')"),
    )


def downgrade() -> None:
    op.drop_index("ix_media_objects_captured_live", table_name="media_objects")
    op.drop_table("device_settings")
    op.drop_index("ix_shares_media_created", table_name="shares")
    op.drop_table("shares")
