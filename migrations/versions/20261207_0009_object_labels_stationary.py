"""Objects found by analysis as a filterable column, and stationary tracks.

`media_objects.object_labels` (JSONB array, GIN-indexed) holds the labels of a media's reported
tracks, backfilled from `tracks`; `tracks.stationary` flags objects that stayed in place.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "media_objects",
        sa.Column("object_labels", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_index(
        "ix_media_objects_object_labels",
        "media_objects",
        ["object_labels"],
        postgresql_using="gin",
        postgresql_ops={"object_labels": "jsonb_path_ops"},
    )
    op.add_column(
        "tracks",
        sa.Column("stationary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(
        "UPDATE media_objects m SET object_labels = found.labels FROM ("
        " SELECT media_id, jsonb_agg(DISTINCT label ORDER BY label) AS labels"
        " FROM tracks GROUP BY media_id) AS found WHERE found.media_id = m.id"
    )


def downgrade() -> None:
    op.drop_column("tracks", "stationary")
    op.drop_index("ix_media_objects_object_labels", table_name="media_objects")
    op.drop_column("media_objects", "object_labels")
