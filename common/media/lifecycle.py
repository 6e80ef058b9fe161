"""Applying status changes: checked, recorded in history, mirrored to Firestore. The only writer
of `media_objects.status`.

A new row's first status (`pending_upload`, or `verified` for a capture that shares stored
bytes) is written with its history row by the declaration's statement (`common.media.declare`)
and not mirrored: an event stream starts from the row (`common.api.sse`), so one opened on a
fresh declaration sees it first. `transition()` makes every later change: it appends a
`status_history` row in the caller's transaction and mirrors the new status (`media/{id}` in
Firestore) once that transaction commits (`common.db.engine.on_commit`), so a change that rolls
back is never mirrored. An illegal or repeated transition changes nothing, is logged, and
re-mirrors the current state (repairing a mirror write that failed before).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.core.reasons import Reason
from common.core.status import MediaStatus, can_transition
from common.db.engine import on_commit
from common.db.models import MediaObject
from common.db.repo import add_history, get_media
from common.media.mirror import MEDIA_COLLECTION, delete_document, write_media_status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def _reason_of(media: MediaObject) -> Reason | None:
    if media.status_reason_code is None:
        return None
    return Reason(media.status_reason_code, media.status_reason or "")


def mirror(media: MediaObject) -> None:
    """Write a media row's current status to its Firestore document now (a deleted media's
    document is deleted: the mirror keeps nothing of it).

    Raises:
        TransientError: Firestore unreachable.
    """
    _mirror_write(media.id, media.status, _reason_of(media), media.device_id, _facts(media))()


def _facts(media: MediaObject) -> dict[str, Any]:
    """The media's fixed facts its realtime document carries (the event streams send them)."""
    return {"camera_id": media.camera_id, "kind": media.kind, "captured_at": media.captured_at}


def _mirror_write(
    media_id: str, status: str, reason: Reason | None, device_id: str, facts: dict[str, Any]
) -> Callable[[], None]:
    """The mirror write of one status, its values taken now (later changes do not alter it)."""

    def write() -> None:
        if status == MediaStatus.DELETED.value:
            delete_document(MEDIA_COLLECTION, media_id)
            return
        write_media_status(
            media_id,
            status=status,
            reason=reason,
            device_id=device_id,
            progress=1.0 if status == MediaStatus.PROCESSED.value else None,
            facts=facts,
        )

    return write


def mirror_on_commit(session: Session, media: MediaObject) -> None:
    """Mirror the media's status as it is now, once the caller's transaction commits."""
    on_commit(
        session,
        _mirror_write(media.id, media.status, _reason_of(media), media.device_id, _facts(media)),
    )


_ANNOUNCED = frozenset({MediaStatus.PROCESSED, MediaStatus.FAILED, MediaStatus.REJECTED})
"""Statuses announced to webhook endpoints (`media.processed`, `media.failed`, `media.rejected`)."""


def _announce(session: Session, media: MediaObject) -> None:
    """Queue the webhook deliveries of a media's new status in the transition's transaction;
    publish them once it commits (`common.webhooks.outbox`)."""
    from common.core.times import iso_utc
    from common.webhooks.outbox import enqueue, publish

    counts = (media.analysis or {}).get("counts") if media.analysis else None
    deliveries = enqueue(
        session,
        f"media.{media.status}",
        media.id,
        device_id=media.device_id,
        camera_id=media.camera_id,
        label=None,
        data={
            "media_id": media.id,
            "device_id": media.device_id,
            "camera_id": media.camera_id,
            "kind": media.kind,
            "media_type": media.media_type,
            "status": media.status,
            "reason_code": media.status_reason_code,
            "reason": media.status_reason,
            "captured_at": iso_utc(media.captured_at),
            "duration_ms": media.duration_ms,
            "counts": counts,
        },
    )
    if deliveries:
        on_commit(session, lambda: publish(deliveries))


def transition(
    session: Session,
    media_id: str,
    target: MediaStatus,
    *,
    reason: Reason | None = None,
    event_id: str | None = None,
    object_version: str | None = None,
    expected: MediaStatus | None = None,
    fields: dict[str, Any] | None = None,
    revive: bool = False,
) -> bool:
    """Move a media object to `target` if the status machine allows it, in the caller's
    transaction (the row stays locked until it commits; the mirror is written after that).

    Args:
        session: the caller's unit of work.
        media_id: the media id.
        target: the status to enter.
        reason: why (stored on the row and in history; given for rejected and failed).
        event_id: the Pub/Sub message id (or request id) that caused it.
        object_version: the object version the transition is about, recorded in history.
        expected: if given, apply only when the current status is exactly this one.
        fields: extra MediaObject columns to set in the same update.
        revive: an operator's revival out of a dead-lettered `failed` (`REVIVALS`): allowed
            only when the current reason is `dead_lettered`.

    Returns:
        True if the status changed; False for a logged no-op.

    Raises:
        NotFound: the media id does not exist.
        TransientError: the database or the mirror is unavailable (from the commit).
    """
    media = get_media(session, media_id, lock=True)
    previous = media.status
    allowed = can_transition(previous, target, revive=revive) and (
        expected is None or previous == expected
    )
    if revive and media.status_reason_code != "dead_lettered":
        allowed = False
    if allowed:
        media.status = target.value
        media.status_reason_code = reason.code if reason else None
        media.status_reason = reason.message if reason else None
        for name, value in (fields or {}).items():
            setattr(media, name, value)
        add_history(
            session,
            media_id,
            from_status=previous,
            to_status=target.value,
            reason=reason,
            event_id=event_id,
            object_version=object_version,
        )
        session.flush()
        if fields and any(_is_sql(value) for value in fields.values()):
            session.refresh(media)
        if target in _ANNOUNCED:
            _announce(session, media)
    else:
        log.info(
            "transition %s -> %s of %s is a no-op (event %s)",
            previous,
            target.value,
            media_id,
            event_id,
        )
    mirror_on_commit(session, media)
    return allowed


def _is_sql(value: object) -> bool:
    """A value the database computes (`func.now()`), read back after the change."""
    from sqlalchemy.sql import ClauseElement

    return isinstance(value, ClauseElement)


def update_fields(
    session: Session, media_id: str, fields: dict[str, Any], *, expected: MediaStatus
) -> bool:
    """Set columns of a media row other than its status, while it is in status `expected` (in
    the caller's transaction).

    Returns:
        True if the row was in `expected` and was updated.

    Raises:
        NotFound: no such media.
    """
    if "status" in fields:
        raise ValueError("status changes go through transition()")
    media = get_media(session, media_id, lock=True)
    if media.status != expected.value:
        return False
    for name, value in fields.items():
        setattr(media, name, value)
    return True


def record_event(
    session: Session,
    media_id: str,
    *,
    reason: Reason,
    event_id: str | None,
    object_version: str | None,
) -> bool:
    """Append a history row that is not a transition (e.g. a rejected overwrite).

    Idempotent: a row with the same media, object version and reason code is written once, so a
    redelivered notification leaves one record. In the caller's transaction.

    Returns:
        True if a row was written, False if it existed already.

    Raises:
        NotFound: no such media.
    """
    from sqlalchemy import select

    from common.db.models import StatusHistory

    media = get_media(session, media_id, lock=True)  # serialise writers
    existing = session.execute(
        select(StatusHistory.id).where(
            StatusHistory.media_id == media_id,
            StatusHistory.object_version == object_version,
            StatusHistory.reason_code == reason.code,
        )
    ).first()
    if existing is not None:
        return False
    add_history(
        session,
        media_id,
        from_status=media.status,
        to_status=media.status,
        reason=reason,
        event_id=event_id,
        object_version=object_version,
    )
    return True
