"""The declarative base, its constraint naming convention and the value sets of checked columns."""

from __future__ import annotations

from sqlalchemy import (
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase

from common.core.status import (
    TERMINAL_STATUSES,
    MediaKind,
    MediaStatus,
    MediaType,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MEDIA_STATUSES = tuple(status.value for status in MediaStatus)
UNFINISHED_STATUSES = tuple(s.value for s in MediaStatus if s not in TERMINAL_STATUSES)
MEDIA_KINDS = tuple(kind.value for kind in MediaKind)
MEDIA_TYPES = tuple(kind.value for kind in MediaType)


def check_in(column: str, values: tuple[str, ...]) -> str:
    """SQL of a CHECK constraint: `column IN ('a', 'b')`."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
