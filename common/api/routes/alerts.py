"""Event routes: the events of a caller's devices (list_media) and reviewing them (manage_media).
A camera's event settings are `common.api.routes.event_settings`. docs/CONTRACTS.md, "Events"."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.api.routes.media import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from common.core.ids import SEGMENT_PATTERN
from common.media.events.review import MAX_BULK_EVENTS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.api.auth import Principal
    from common.db.models import Event
    from common.media.events.listing import EventExtras, EventFilters


class EventQuery(BaseModel):
    """Query of `GET /v1/events`: filters (combined with AND) and paging."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=512)
    device_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    camera_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    label: str | None = Field(default=None, min_length=1, max_length=64)
    start_after: AwareDatetime | None = Field(default=None, description="inclusive")
    start_before: AwareDatetime | None = Field(default=None, description="exclusive")
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    reviewed: bool | None = Field(
        default=None, description="true: reviewed only; false: unreviewed"
    )

    def filters(self) -> EventFilters:
        """The filters of this query (times in UTC)."""
        from common.media.events.listing import EventFilters

        return EventFilters(
            device_id=self.device_id,
            camera_id=self.camera_id,
            label=self.label,
            start_after=self.start_after.astimezone(UTC) if self.start_after else None,
            start_before=self.start_before.astimezone(UTC) if self.start_before else None,
            min_score=self.min_score,
            reviewed=self.reviewed,
        )


class EventBody(schemas.Schema):
    """One event: an object of a label its camera cares about, from its first to its last
    sighting (wall-clock times), across one or more recordings (`segments`)."""

    event_id: str
    media_id: str
    track_id: int
    device_id: str
    camera_id: str
    label: str
    start_at: schemas.UtcTime
    end_at: schemas.UtcTime
    start_ms: int = Field(description="the event's start in `media_id`, ms from its start")
    best_score: float
    best_media_id: str
    best_track_id: int
    best_time_ms: int | None
    box: schemas.Box | None
    segments: int
    snapshot_url: str | None
    clip_job_id: str | None
    clip_media_id: str | None
    reviewed_at: schemas.UtcTime | None
    reviewed_by: str | None
    created_at: schemas.UtcTime
    updated_at: schemas.UtcTime


class EventPageBody(schemas.Schema):
    """A page of events, newest first, and the cursor of the next (null on the last)."""

    items: list[EventBody]
    next_cursor: str | None


class ReviewBody(BaseModel):
    """`POST /v1/events/{event_id}/review`: mark reviewed (or `reviewed: false` to take it back)."""

    model_config = ConfigDict(extra="forbid")

    reviewed: bool = True


class BulkReviewBody(BaseModel):
    """`POST /v1/events/review`: these events, or every unreviewed event the filters select."""

    model_config = ConfigDict(extra="forbid")

    event_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BULK_EVENTS)
    device_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    camera_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    label: str | None = Field(default=None, min_length=1, max_length=64)
    start_after: AwareDatetime | None = None
    start_before: AwareDatetime | None = None
    reviewed: bool = True


class BulkReviewResult(schemas.Schema):
    """How many events changed."""

    updated: int


def _body(event: Event, extra: EventExtras, url: str | None, start_ms: int) -> EventBody:
    return EventBody(
        event_id=event.id,
        media_id=event.media_id,
        track_id=event.track_id,
        device_id=event.device_id,
        camera_id=event.camera_id,
        label=event.label,
        start_at=event.start_at,
        end_at=event.end_at,
        start_ms=start_ms,
        best_score=round(event.best_score, 4),
        best_media_id=event.best_media_id,
        best_track_id=event.best_track_id,
        best_time_ms=extra.best_time_ms,
        box=schemas.Box(x=extra.box[0], y=extra.box[1], w=extra.box[2], h=extra.box[3])
        if extra.box
        else None,
        segments=event.segments,
        snapshot_url=url,
        clip_job_id=event.clip_job_id,
        clip_media_id=extra.clip_media_id,
        reviewed_at=event.reviewed_at,
        reviewed_by=event.reviewed_by,
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _bodies(session: Session, events: list[Event], *, sign: bool = True) -> list[EventBody]:
    """Bodies of a page of events; `sign=False` leaves `snapshot_url` null (manage_media, whose
    identity signs no URLs, answers a review so: `GET /v1/events/{id}` has the URL)."""
    from sqlalchemy import select

    from common.core.settings import get_settings
    from common.db.models import MediaObject
    from common.media.events.listing import extras
    from common.media.listing import signer

    found = extras(session, events)
    with_snapshot = [e for e in events if sign and found[e.id].snapshot_object_name]
    signed = signer().sign_downloads(
        [
            (found[e.id].snapshot_bucket or "", found[e.id].snapshot_object_name or "")
            for e in with_snapshot
        ],
        ttl_seconds=get_settings().download_url_ttl_seconds,
    )
    urls = {e.id: s.url for e, s in zip(with_snapshot, signed, strict=True)}
    captured = dict(
        session.execute(
            select(MediaObject.id, MediaObject.captured_at).where(
                MediaObject.id.in_({e.media_id for e in events})
            )
        )
        .tuples()
        .all()
    )
    bodies = []
    for event in events:
        start = captured.get(event.media_id, event.start_at)
        start_ms = max(0, int((event.start_at - start).total_seconds() * 1000))
        bodies.append(_body(event, found[event.id], urls.get(event.id), start_ms))
    return bodies


def _scope(
    session: Session, principal: Principal, device_id: str | None
) -> tuple[list[str] | None, str | None]:
    """(device ids, user id) whose events the caller lists (both None: every device)."""
    from common.api.access import require_device

    if device_id is not None:
        require_device(session, principal, device_id)
        return [device_id], None
    if principal.kind == "device":
        return [principal.subject], None
    return None, None if principal.admin else principal.subject


def list_events(call: Call) -> Reply:
    """`GET /v1/events`: the events of the caller's devices, newest first."""
    from common.db.engine import read_scope
    from common.media.events.listing import event_page

    query = call.query(EventQuery)
    filters = query.filters()
    with read_scope() as session:
        device_ids, user_id = _scope(session, call.principal, filters.device_id)
        page = event_page(
            session,
            device_ids=device_ids,
            user_id=user_id,
            filters=filters,
            limit=query.limit,
            cursor=query.cursor,
        )
        return Reply(
            EventPageBody(items=_bodies(session, page.items), next_cursor=page.next_cursor)
        )


def get_event(call: Call) -> Reply:
    """`GET /v1/events/{event_id}`."""
    from common.api.access import load_event
    from common.db.engine import read_scope

    with read_scope() as session:
        event = load_event(session, call.principal, call.params["event_id"])
        return Reply(_bodies(session, [event])[0])


def review_event(call: Call) -> Reply:
    """`POST /v1/events/{event_id}/review`."""
    from common.api.access import load_event
    from common.db.engine import session_scope
    from common.media.events.notify import mirror_events
    from common.media.events.review import set_reviewed

    body = call.body(ReviewBody)
    with session_scope() as session:
        event = load_event(session, call.principal, call.params["event_id"], lock=True)
        documents = set_reviewed(
            session, [event], reviewed=body.reviewed, actor=call.principal.actor
        )
        reply = _bodies(session, [event], sign=False)[0]
    mirror_events(documents)
    return Reply(reply)


def review_events(call: Call) -> Reply:
    """`POST /v1/events/review`: mark many reviewed at once."""
    from sqlalchemy import select

    from common.api.access import can_see_device
    from common.core.errors import ValidationError
    from common.db.engine import session_scope
    from common.db.models import Event
    from common.media.events.listing import EventFilters
    from common.media.events.notify import mirror_events
    from common.media.events.review import set_reviewed, unreviewed_matching

    body = call.body(BulkReviewBody)
    filtered = any(
        v is not None
        for v in (body.device_id, body.camera_id, body.label, body.start_after, body.start_before)
    )
    if body.event_ids is not None and filtered:
        raise ValidationError("give event_ids or filters, not both", code="validation_failed")
    with session_scope() as session:
        if body.event_ids is not None:
            found = session.execute(
                select(Event).where(Event.id.in_(body.event_ids)).with_for_update()
            ).scalars()
            events = [e for e in found if can_see_device(session, call.principal, e.device_id)]
        else:
            device_ids, user_id = _scope(session, call.principal, body.device_id)
            filters = EventFilters(
                device_id=body.device_id,
                camera_id=body.camera_id,
                label=body.label,
                start_after=body.start_after.astimezone(UTC) if body.start_after else None,
                start_before=body.start_before.astimezone(UTC) if body.start_before else None,
            )
            events = unreviewed_matching(
                session, device_ids=device_ids, user_id=user_id, filters=filters
            )
        documents = set_reviewed(
            session, events, reviewed=body.reviewed, actor=call.principal.actor
        )
    mirror_events(documents)
    return Reply(BulkReviewResult(updated=len(documents)))


_EVENT = "/v1/events/<event_id>"

LIST_ROUTES = [
    Route(
        "GET",
        "/v1/events",
        list_events,
        operation_id="listEvents",
        summary="The events of the caller's devices, newest first",
        description=(
            "A user sees the devices it owns, a device itself, an admin every device. "
            "`next_cursor` is bound to the filters (422 `cursor_mismatch` with others)."
        ),
        query=EventQuery,
        responses={200: EventPageBody},
        errors=(401, 404, 422),
    ),
    Route(
        "GET",
        _EVENT,
        get_event,
        operation_id="getEvent",
        summary="One event",
        responses={200: EventBody},
        errors=(401, 404),
    ),
]
MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/events/review",
        review_events,
        operation_id="reviewEvents",
        summary="Mark events reviewed: a list, or every unreviewed one the filters select",
        description=f"At most {MAX_BULK_EVENTS} events per call; repeat until `updated` is 0.",
        body=BulkReviewBody,
        responses={200: BulkReviewResult},
        errors=(400, 401, 404, 422),
    ),
    Route(
        "POST",
        f"{_EVENT}/review",
        review_event,
        operation_id="reviewEvent",
        summary="Mark one event reviewed (or not)",
        description="Answers the event with `snapshot_url` null (`GET /v1/events/{event_id}` signs it).",
        body=ReviewBody,
        responses={200: EventBody},
        errors=(400, 401, 404, 422),
    ),
]
