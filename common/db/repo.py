"""Repository helpers shared by every writer: one insert-or-get, one history-row writer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from common.db.models import Base, StatusHistory

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.core.reasons import Reason

ModelT = TypeVar("ModelT", bound=Base)


def insert_or_get(
    session: Session, model: type[ModelT], values: Mapping[str, Any], key: Mapping[str, Any]
) -> tuple[ModelT, bool]:
    """Insert a row unless one with the same unique key exists; return the row either way.

    `INSERT ... ON CONFLICT DO NOTHING` with no conflict target, so a race on *any* unique
    constraint (two identical declarations arriving together collide on every unique key at once)
    ends in the existing row instead of an IntegrityError. The row is then read by `key`, the
    columns of the unique constraint that identifies a request (e.g. device, camera, message).

    Args:
        session: the unit of work (the caller commits).
        model: the mapped class.
        values: the new row's columns.
        key: column -> value of the identifying unique key (a subset of `values`).

    Returns:
        The row and whether this call inserted it.

    Raises:
        LookupError: the insert conflicted on another unique key, and no row has `key` (the
            caller's key and the constraint disagree: a bug or a conflicting request).
    """
    from sqlalchemy import select
    from sqlalchemy.dialects.postgresql import insert

    table = model.__table__
    primary = next(iter(table.primary_key.columns))  # type: ignore[attr-defined]
    inserted = session.execute(
        insert(model).values(**values).on_conflict_do_nothing().returning(primary)
    ).first()
    query = select(model).filter_by(**key)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise LookupError(f"{table.name}: insert conflicted and no row has {dict(key)}")  # type: ignore[attr-defined]
    return row, inserted is not None


def add_history(
    session: Session,
    media_id: str,
    *,
    from_status: str | None,
    to_status: str,
    reason: Reason | None = None,
    event_id: str | None = None,
    object_version: str | None = None,
) -> None:
    """Append one `status_history` row (the only writer of that table)."""
    session.add(
        StatusHistory(
            media_id=media_id,
            from_status=from_status,
            to_status=to_status,
            reason_code=reason.code if reason else None,
            reason=reason.message if reason else None,
            event_id=event_id,
            object_version=object_version,
        )
    )
