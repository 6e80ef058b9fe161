"""Applying status transitions: checked, recorded in history, mirrored to Firestore.

Every status change of a media object goes through `transition()`. It locks the row, checks the move
against `common.status`, updates the row (plus any fields learned on the way), appends a
`status_history` row, commits, then mirrors. An illegal or repeated transition changes nothing, is
logged, and re-mirrors the current state (repairing a mirror write that failed before).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from common.db.engine import session_scope
from common.db.models import MediaObject, StatusHistory
from common.errors import NotFound
from common.mirror import write_media_status
from common.status import MediaStatus, can_transition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransitionOutcome:
    """What `transition()` did.

    Attributes:
        applied: True if the status changed; False for a logged no-op.
        previous: the status before the call.
        current: the status after the call.
    """

    applied: bool
    previous: MediaStatus
    current: MediaStatus


def transition(
    media_id: str,
    target: MediaStatus,
    *,
    reason: str | None = None,
    event_id: str | None = None,
    generation: int | None = None,
    expected: MediaStatus | None = None,
    fields: dict[str, Any] | None = None,
) -> TransitionOutcome:
    """Move a media object to `target` if the status machine allows it.

    Args:
        media_id: the media id.
        target: the status to enter.
        reason: why (stored on the row and in history; required for rejected/failed by convention).
        event_id: the CloudEvent / Pub/Sub message id that caused it.
        generation: the object generation the transition is about, recorded in history.
        expected: if given, apply only when the current status is exactly this one.
        fields: extra MediaObject columns to set in the same update.

    Returns:
        The outcome; `applied=False` means nothing changed.

    Raises:
        NotFound: if the media id does not exist.
        TransientError: if the database or the mirror is unavailable.
    """
    with session_scope() as session:
        media = session.get(MediaObject, media_id, with_for_update=True)
        if media is None:
            raise NotFound(f"media {media_id} not found")
        previous = MediaStatus(media.status)
        device_id = media.device_id
        allowed = can_transition(previous, target) and (expected is None or previous == expected)
        if allowed:
            media.status = target.value
            media.status_reason = reason
            for name, value in (fields or {}).items():
                setattr(media, name, value)
            session.add(
                StatusHistory(
                    media_id=media_id,
                    from_status=previous.value,
                    to_status=target.value,
                    reason=reason,
                    event_id=event_id,
                    generation=generation,
                )
            )
        current = MediaStatus(media.status)
        current_reason = media.status_reason
    if not allowed:
        log.info(
            "transition %s -> %s of %s is a no-op (event %s)",
            previous.value,
            target.value,
            media_id,
            event_id,
        )
    write_media_status(
        media_id,
        status=current.value,
        reason=current_reason,
        device_id=device_id,
        progress=1.0 if current is MediaStatus.PROCESSED else None,
    )
    return TransitionOutcome(applied=allowed, previous=previous, current=current)


def record_event(
    media_id: str,
    *,
    status: MediaStatus,
    reason: str,
    event_id: str | None,
    generation: int | None,
) -> bool:
    """Append a history row that is not a transition (e.g. a rejected overwrite generation).

    Idempotent: a row with the same media, generation and reason is written once, so a redelivered
    notification leaves one record.

    Returns:
        True if a row was written, False if it existed already.

    Raises:
        TransientError: if the database is unavailable.
    """
    from sqlalchemy import select

    with session_scope() as session:
        session.get(MediaObject, media_id, with_for_update=True)  # serialise concurrent writers
        existing = session.execute(
            select(StatusHistory.id).where(
                StatusHistory.media_id == media_id,
                StatusHistory.generation == generation,
                StatusHistory.reason == reason,
            )
        ).first()
        if existing is not None:
            return False
        session.add(
            StatusHistory(
                media_id=media_id,
                from_status=status.value,
                to_status=status.value,
                reason=reason,
                event_id=event_id,
                generation=generation,
            )
        )
    return True
