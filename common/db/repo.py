"""Repository helpers shared by every writer: one insert-or-get, one history-row writer, one
read of a media row (`get_media`) and of a job row (`get_job`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from common.core.errors import NotFound
from common.db.models import Base, Job, MediaObject, StatusHistory

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


def get_media(session: Session, media_id: str, *, lock: bool = False) -> MediaObject:
    """The media row as committed now, locked `FOR UPDATE` until the caller's commit when `lock`.

    Always read from the database (a row the session holds is refreshed), so a long-lived
    session never decides on a status another process has changed since.

    Raises:
        NotFound: no row has this id (rows are tombstoned, never removed: a bad id).
    """
    media = session.get(
        MediaObject, media_id, with_for_update=True if lock else None, populate_existing=True
    )
    if media is None:
        raise NotFound(f"media {media_id!r} not found")
    return media


def get_job(session: Session, job_id: str, *, lock: bool = False) -> Job:
    """The job row as committed now (as `get_media`).

    Raises:
        NotFound: no such job.
    """
    job = session.get(Job, job_id, with_for_update=True if lock else None, populate_existing=True)
    if job is None:
        raise NotFound(f"job {job_id!r} not found")
    return job
