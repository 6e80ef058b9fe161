"""Device token revocation: a device's tokens refused all at once or one by one, deleted devices,
and why a share ended early; the trace a media was declared under.

`device_credentials` (per device: tokens issued before `tokens_valid_after` are refused, and a
`deleted_at` device is refused altogether), `revoked_tokens` (token ids, `jti`, refused until
they would have expired), `shares.revoked_reason`, `media_objects.trace_id`.

Revision ID: device_token_revocation
Revises: 0009
Create Date: 2026-12-07 06:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "device_token_revocation"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_credentials",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_credentials")),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=256), nullable=False),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_tokens_device_id"), "revoked_tokens", ["device_id"], unique=False
    )
    op.add_column("shares", sa.Column("revoked_reason", sa.String(length=64), nullable=True))
    op.add_column("media_objects", sa.Column("trace_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("media_objects", "trace_id")
    op.drop_column("shares", "revoked_reason")
    op.drop_index(op.f("ix_revoked_tokens_device_id"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
    op.drop_table("device_credentials")
