"""Applying status changes: checked, recorded in history, mirrored to Firestore. The only writer
of `media_objects.status`.

`created()` records a new row's first status (`pending_upload`); `transition()` every later one.
Both append a `status_history` row, commit, then mirror (`media/{id}` in Firestore), so an SSE
stream opened on a fresh declaration sees `pending_upload` and every status after it. An illegal
or repeated transition changes nothing, is logged, and re-mirrors the current state (repairing a
mirror write that failed before).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from common.core.errors import NotFound
from common.core.reasons import Reason
from common.core.status import MediaStatus, can_transition
from common.db.engine import session_scope
from common.db.models import MediaObject
from common.db.repo import add_history
from common.media.mirror import MEDIA_COLLECTION, delete_document, write_media_status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def _reason_of(media: MediaObject) -> Reason | None:
    if media.status_reason_code is None:
        return None
    return Reason(media.status_reason_code, media.status_reason or "")


def mirror(media: MediaObject) -> None:
    """Write a media row's current status to its Firestore document (a deleted media's document
    is deleted: the mirror keeps nothing of it).

    Raises:
        TransientError: Firestore unreachable.
    """
    if media.status == MediaStatus.DELETED.value:
        delete_document(MEDIA_COLLECTION, media.id)
        return
    write_media_status(
        media.id,
        status=media.status,
        reason=_reason_of(media),
        device_id=media.device_id,
        progress=1.0 if media.status == MediaStatus.PROCESSED.value else None,
    )


_ANNOUNCED = frozenset({MediaStatus.PROCESSED, MediaStatus.FAILED, MediaStatus.REJECTED})
"""Statuses announced to webhook endpoints (`media.processed`, `media.failed`, `media.rejected`)."""


def _announce(session: Session, media: MediaObject) -> list[str]:
    """Queue the webhook deliveries of a media's new status (in the transition's transaction)."""
    from common.core.times import iso_utc
    from common.webhooks.outbox import enqueue

    counts = (media.analysis or {}).get("counts") if media.analysis else None
    return enqueue(
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


def created(session: Session, media: MediaObject, *, event_id: str | None = None) -> None:
    """Record a new row's first status in the history (in the caller's transaction).

    The caller mirrors it with `mirror(media)` after committing.
    """
    add_history(
        session,
        media.id,
        from_status=None,
        to_status=media.status,
        event_id=event_id,
        object_version=media.object_version,
    )


def transition(
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
    """Move a media object to `target` if the status machine allows it.

    Args:
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
        TransientError: the database or the mirror is unavailable.
    """
    deliveries: list[str] = []
    with session_scope() as session:
        media = session.get(MediaObject, media_id, with_for_update=True)
        if media is None:
            raise NotFound(f"media {media_id} not found")
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
            if target in _ANNOUNCED:
                deliveries = _announce(session, media)
    if deliveries:
        from common.webhooks.outbox import publish

        publish(deliveries)
    if not allowed:
        log.info(
            "transition %s -> %s of %s is a no-op (event %s)",
            previous,
            target.value,
            media_id,
            event_id,
        )
    mirror(media)
    return allowed


def update_fields(media_id: str, fields: dict[str, Any], *, expected: MediaStatus) -> bool:
    """Set columns of a media row other than its status, while it is in status `expected`.

    Returns:
        True if the row was in `expected` and was updated.

    Raises:
        TransientError: the database is unavailable.
    """
    if "status" in fields:
        raise ValueError("status changes go through transition()")
    with session_scope() as session:
        media = session.get(MediaObject, media_id, with_for_update=True)
        if media is None or media.status != expected.value:
            return False
        for name, value in fields.items():
            setattr(media, name, value)
    return True


def record_event(
    media_id: str,
    *,
    reason: Reason,
    event_id: str | None,
    object_version: str | None,
) -> bool:
    """Append a history row that is not a transition (e.g. a rejected overwrite).

    Idempotent: a row with the same media, object version and reason code is written once, so a
    redelivered notification leaves one record.

    Returns:
        True if a row was written, False if it existed already.

    Raises:
        TransientError: the database is unavailable.
    """
    from sqlalchemy import select

    from common.db.models import StatusHistory

    with session_scope() as session:
        media = session.get(MediaObject, media_id, with_for_update=True)  # serialise writers
        if media is None:
            raise NotFound(f"media {media_id} not found")
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
