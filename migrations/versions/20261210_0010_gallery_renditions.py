"""Gallery renditions: the grid's tiles at 1x/2x in WebP and JPEG, a display-size photo, a video's
playback rendition and storyboard; `details` holds a rendition's own facts (a storyboard's time
index).

Revision ID: 0010
Revises: device_token_revocation
Create Date: 2026-12-10 12:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "device_token_revocation"
branch_labels = None
depends_on = None

KINDS = (
    "thumbnail",
    "poster",
    "web",
    "tile",
    "tile_2x",
    "tile_webp",
    "tile_webp_2x",
    "display",
    "playback",
    "storyboard",
)
EARLIER = ("thumbnail", "poster", "web")


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_derivatives_kind"), "derivatives", type_="check")
    op.create_check_constraint(op.f("ck_derivatives_kind"), "derivatives", _kinds(KINDS))
    op.add_column(
        "derivatives",
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("derivatives", "details")
    later = [k for k in KINDS if k not in EARLIER]
    op.execute(
        sa.text("DELETE FROM derivatives WHERE kind IN :later").bindparams(
            sa.bindparam("later", later, expanding=True)
        )
    )
    op.drop_constraint(op.f("ck_derivatives_kind"), "derivatives", type_="check")
    op.create_check_constraint(op.f("ck_derivatives_kind"), "derivatives", _kinds(EARLIER))
