"""Listing events: the devices a caller sees, newest first (`start_at desc, id desc`), filtered,
in keyset pages whose cursor is bound to the filters (as the gallery's, `common.media.gallery`).

Every page is an index range scan: a device's events by `(device_id, start_at, id)`, by camera
`(device_id, camera_id, start_at, id)`, by label `(device_id, label, start_at, id)`, the
unreviewed ones by the partial `(device_id, start_at, id) WHERE reviewed_at IS NULL`; a user's
page takes the newest rows of each owned device (one range scan each, a LATERAL join) and then
the newest of those. `bench/explain_events.py` prints the plans on 10 million events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from common.core.cursor import fingerprint_of

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from common.db.models import Event


@dataclass(frozen=True)
class EventFilters:
    """What an event page is filtered by (None: any).

    Attributes:
        device_id: one device.
        camera_id: one camera.
        label: one event label.
        start_after: events that start at or after this time.
        start_before: events that start before this time.
        min_score: best score at least this.
        reviewed: True only reviewed events, False only unreviewed ones.
    """

    device_id: str | None = None
    camera_id: str | None = None
    label: str | None = None
    start_after: datetime | None = None
    start_before: datetime | None = None
    min_score: float | None = None
    reviewed: bool | None = None

    def fingerprint(self) -> str:
        """16 hex characters naming these filters."""
        return fingerprint_of(asdict(self))


@dataclass(frozen=True)
class EventPage:
    """One page of events and the cursor of the next (None on the last page)."""

    items: list[Event]
    next_cursor: str | None


def _statement(
    owner: Literal["devices", "user", "any"], filters: EventFilters, after: bool
) -> Select[Any]:
    from sqlalchemy import Float, Integer, bindparam, select, true, tuple_
    from sqlalchemy.orm import aliased

    from common.db.models import DeviceOwner, Event

    e = Event
    query = select(e)
    owned = None
    if owner == "devices":
        query = query.where(e.device_id.in_(bindparam("device_ids", expanding=True)))
    elif owner == "user":
        owned = (
            select(DeviceOwner.device_id)
            .where(DeviceOwner.user_id == bindparam("user_id"))
            .subquery("owned")
        )
        query = query.where(e.device_id == owned.c.device_id)
    for name in ("device_id", "camera_id", "label"):
        if getattr(filters, name) is not None:
            query = query.where(getattr(e, name) == bindparam(name))
    if filters.start_after is not None:
        query = query.where(e.start_at >= bindparam("start_after", type_=e.start_at.type))
    if filters.start_before is not None:
        query = query.where(e.start_at < bindparam("start_before", type_=e.start_at.type))
    if filters.min_score is not None:
        query = query.where(e.best_score >= bindparam("min_score", type_=Float))
    if filters.reviewed is True:
        query = query.where(e.reviewed_at.is_not(None))
    elif filters.reviewed is False:
        query = query.where(e.reviewed_at.is_(None))
    if after:
        key = tuple_(
            bindparam("after_time", type_=e.start_at.type), bindparam("after_id", type_=e.id.type)
        )
        query = query.where(tuple_(e.start_at, e.id) < key)
    query = query.order_by(e.start_at.desc(), e.id.desc()).limit(bindparam("rows", type_=Integer))
    if owned is None:
        return query
    per_device = query.lateral("per_device")
    newest = aliased(Event, per_device)
    return (
        select(newest)
        .select_from(owned)
        .join(per_device, true())
        .order_by(newest.start_at.desc(), newest.id.desc())
        .limit(bindparam("rows", type_=Integer))
    )


def event_page(
    session: Session,
    *,
    device_ids: list[str] | None,
    user_id: str | None,
    filters: EventFilters,
    limit: int,
    cursor: str | None,
) -> EventPage:
    """One page of the events of the given devices, of the devices a user owns, or of all
    (`device_ids` and `user_id` None: an admin).

    Raises:
        ValidationError: a bad cursor, or one made for other filters (`cursor_mismatch`).
    """
    from common.core.cursor import decode_cursor, encode_cursor

    params: dict[str, Any] = {"rows": limit + 1}
    owner: Literal["devices", "user", "any"] = "any"
    if device_ids is not None:
        owner, params["device_ids"] = "devices", device_ids
    elif user_id is not None:
        owner, params["user_id"] = "user", user_id
    for name in ("device_id", "camera_id", "label", "start_after", "start_before", "min_score"):
        if getattr(filters, name) is not None:
            params[name] = getattr(filters, name)
    if cursor:
        params["after_time"], params["after_id"] = decode_cursor(cursor, filters)
    rows = list(session.execute(_statement(owner, filters, bool(cursor)), params).scalars())
    page = rows[:limit]
    more = len(rows) > limit and page
    return EventPage(page, encode_cursor(page[-1].start_at, page[-1].id, filters) if more else None)


@dataclass(frozen=True)
class EventExtras:
    """What an event's body shows besides its row: its best track's snapshot and box, and the
    result of its clip job."""

    snapshot_bucket: str | None
    snapshot_object_name: str | None
    box: tuple[int, int, int, int] | None
    best_time_ms: int | None
    clip_media_id: str | None


def extras(session: Session, events: list[Event]) -> dict[str, EventExtras]:
    """`EventExtras` of each event (two queries for the whole page)."""
    from sqlalchemy import select, tuple_

    from common.db.models import Job, Track

    if not events:
        return {}
    keys = {(e.best_media_id, e.best_track_id) for e in events}
    tracks = {
        (t.media_id, t.track_id): t
        for t in session.execute(
            select(Track).where(tuple_(Track.media_id, Track.track_id).in_(list(keys)))
        ).scalars()
    }
    job_ids = [e.clip_job_id for e in events if e.clip_job_id]
    clips: dict[str, str | None] = {}
    if job_ids:
        clips = dict(
            session.execute(select(Job.id, Job.result_media_id).where(Job.id.in_(job_ids)))
            .tuples()
            .all()
        )
    found = {}
    for e in events:
        t = tracks.get((e.best_media_id, e.best_track_id))
        found[e.id] = EventExtras(
            t.snapshot_bucket if t else None,
            t.snapshot_object_name if t else None,
            (t.x, t.y, t.w, t.h) if t else None,
            t.best_time_ms if t else None,
            clips.get(e.clip_job_id) if e.clip_job_id else None,
        )
    return found
