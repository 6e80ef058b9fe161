"""Telling the world about events: webhook deliveries queued in the transaction that made them,
and the realtime mirror (`events/{event_id}` in Firestore, the one writer of those documents)
written after it.

A mirror document is the event's `event_data` plus `updated_at` and `seq` (as every mirror
document, `common.media.mirror.write_document`), so the per-user stream can follow the
`events` collection like `media` (docs/CONTRACTS.md, "Live status"). Mirror writes here are
best effort: Postgres is the source of truth and `GET /v1/events` always answers from it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from common.core.errors import TransientError
from common.media.events.build import event_data

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

    from common.db.models import Event

log = logging.getLogger(__name__)

EVENTS_COLLECTION = "events"


def queue_deliveries(
    session: Session, changes: Iterable[tuple[Event, str]], media_id: str
) -> list[str]:
    """Queue `event.created` / `event.updated` deliveries (caller's transaction).

    `event.updated` is keyed by the recording that continued the event, so each continuation is
    announced once.
    """
    from common.webhooks.outbox import enqueue

    queued: list[str] = []
    for event, change in changes:
        subject = event.id if change == "created" else f"{event.id}:{media_id}"
        queued += enqueue(
            session,
            f"event.{change}",
            subject,
            device_id=event.device_id,
            camera_id=event.camera_id,
            label=event.label,
            data=event_data(event),
        )
    return queued


def mirror_events(documents: Iterable[dict[str, Any]]) -> None:
    """Write each event's data to `events/{event_id}` (best effort, logged)."""
    from common.media.mirror import write_document

    for data in documents:
        try:
            write_document(EVENTS_COLLECTION, data["event_id"], data)
        except TransientError:
            log.warning("event mirror write failed for %s", data["event_id"], exc_info=True)


def unmirror_events(event_ids: Iterable[str]) -> None:
    """Delete the documents of deleted events (best effort, logged)."""
    from common.media.mirror import delete_document

    for event_id in event_ids:
        try:
            delete_document(EVENTS_COLLECTION, event_id)
        except TransientError:
            log.warning("event mirror delete failed for %s", event_id, exc_info=True)
