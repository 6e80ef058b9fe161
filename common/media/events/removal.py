"""Events follow their media out: a deleted media (delete, retention, purge) takes its segments
with it, and each event they belonged to is recomputed from what is left, or deleted when
nothing is (an event lives as long as one of its recordings does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.media.events.build import refresh

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.orm import Session

    from common.db.models import Event


def remove_segments(
    session: Session, media_id: str, track_ids: Collection[int] | None = None
) -> tuple[list[Event], list[str]]:
    """Delete `media_id`'s segments (only those of `track_ids` when given) in the caller's
    transaction and recompute their events.

    Returns:
        The events that remain (changed) and the ids of the events deleted.
    """
    from sqlalchemy import delete, select

    from common.db.models import EventSegment

    condition = EventSegment.media_id == media_id
    if track_ids is not None:
        condition = condition & EventSegment.track_id.in_(list(track_ids))
    event_ids = sorted(
        set(session.execute(select(EventSegment.event_id).where(condition)).scalars())
    )
    session.execute(delete(EventSegment).where(condition))
    changed: list[Event] = []
    deleted: list[str] = []
    for event_id in event_ids:
        event = refresh(session, event_id)
        if event is None:
            deleted.append(event_id)
        else:
            changed.append(event)
    return changed, deleted
