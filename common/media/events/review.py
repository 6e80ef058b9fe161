"""Marking events reviewed: one, a list, or every unreviewed event a filter selects (the
gallery's "mark all reviewed"). Marking again is a no-op; `reviewed=false` takes it back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.media.events.build import event_data

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from common.db.models import Event
    from common.media.events.listing import EventFilters

MAX_BULK_EVENTS = 1000


def set_reviewed(
    session: Session, events: Sequence[Event], *, reviewed: bool, actor: str
) -> list[dict[str, object]]:
    """Mark `events` reviewed (or not) in the caller's transaction.

    Returns:
        The mirror documents of the events that changed (the caller mirrors them after commit).
    """
    from sqlalchemy import func

    changed = []
    for event in events:
        if (event.reviewed_at is not None) == reviewed:
            continue
        event.reviewed_at = func.now() if reviewed else None
        event.reviewed_by = actor if reviewed else None
        changed.append(event)
    session.flush()
    for event in changed:
        session.refresh(event)
    return [event_data(event) for event in changed]


def unreviewed_matching(
    session: Session,
    *,
    device_ids: list[str] | None,
    user_id: str | None,
    filters: EventFilters,
) -> list[Event]:
    """Every unreviewed event the filters select (newest first, at most `MAX_BULK_EVENTS`),
    locked for the update."""
    from dataclasses import replace

    from common.media.events.listing import event_page

    page = event_page(
        session,
        device_ids=device_ids,
        user_id=user_id,
        filters=replace(filters, reviewed=False),
        limit=MAX_BULK_EVENTS,
        cursor=None,
    )
    return page.items
