"""list_media's live routes: a media's or a job's status and progress as Server-Sent Events,
and the stream tickets a browser opens them with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import schemas
from common.api.app import Call, Reply, Route

if TYPE_CHECKING:
    from common.api.auth import Principal


class EventsQuery(BaseModel):
    """An event stream's query: a stream ticket, for clients that cannot send headers."""

    model_config = ConfigDict(extra="forbid")

    ticket: str | None = Field(default=None, min_length=16, max_length=2048)


class StreamTicket(schemas.Schema):
    """A ticket opening one event stream: `url` (relative to list_media) carries it."""

    ticket: str
    expires_at: schemas.UtcTime
    url: str


def _stream_principal(call: Call) -> Principal:
    """The caller of an event stream: its `?ticket=` when given, else its bearer token."""
    from common.api.auth import verify_stream_ticket

    query = call.query(EventsQuery)
    if query.ticket is not None:
        return verify_stream_ticket(query.ticket, call.request.path)
    return call.principal


def _ticket_for(call: Call, stream_path: str) -> Reply:
    from urllib.parse import quote

    from common.api.auth import mint_stream_ticket

    ticket, expires_at = mint_stream_ticket(call.principal, stream_path)
    body = StreamTicket(
        ticket=ticket, expires_at=expires_at, url=f"{stream_path}?ticket={quote(ticket)}"
    )
    return Reply(body, 201)


def media_ticket(call: Call) -> Reply:
    """`POST /v1/media/{media_id}/events/ticket`."""
    from common.api.access import load_media
    from common.db.engine import session_scope

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    return _ticket_for(call, f"/v1/media/{media.id}/events")


def job_ticket(call: Call) -> Reply:
    """`POST /v1/jobs/{job_id}/events/ticket`."""
    from common.api.access import load_job
    from common.db.engine import session_scope

    with session_scope() as session:
        job = load_job(session, call.principal, call.params["job_id"])
    return _ticket_for(call, f"/v1/jobs/{job.id}/events")


def media_events(call: Call) -> Response:
    """`GET /v1/media/{media_id}/events` (`text/event-stream`, see `common.api.sse`)."""
    from common.api.access import load_media
    from common.api.sse import MEDIA_TERMINAL, event_response
    from common.db.engine import session_scope
    from common.media.mirror import MEDIA_COLLECTION

    principal = _stream_principal(call)
    with session_scope() as session:
        media = load_media(session, principal, call.params["media_id"])
    initial = {
        "status": media.status,
        "reason_code": media.status_reason_code,
        "reason": media.status_reason,
        "device_id": media.device_id,
    }
    return event_response(
        MEDIA_COLLECTION,
        media.id,
        MEDIA_TERMINAL,
        call.request.headers.get("Last-Event-ID"),
        initial,
    )


def job_events(call: Call) -> Response:
    """`GET /v1/jobs/{job_id}/events` (`text/event-stream`, see `common.api.sse`)."""
    from common.api.access import load_job
    from common.api.sse import JOB_TERMINAL, event_response
    from common.db.engine import session_scope
    from common.media.job_lifecycle import mirror_fields
    from common.media.mirror import JOBS_COLLECTION

    principal = _stream_principal(call)
    with session_scope() as session:
        job = load_job(session, principal, call.params["job_id"])
    return event_response(
        JOBS_COLLECTION,
        job.id,
        JOB_TERMINAL,
        call.request.headers.get("Last-Event-ID"),
        mirror_fields(job),
    )


_STREAM = (
    "An event per version of the realtime document: `event: status` when the status changes, "
    "`event: progress` otherwise; `id:` is the document's `seq` (resume with `Last-Event-ID`). "
    "Ends after a terminal status or `SSE_MAX_SECONDS`. Browsers (EventSource sends no "
    "headers) open it with `?ticket=` from the ticket route instead of `Authorization`."
)
_TICKET = (
    "A ticket valid `STREAM_TICKET_TTL_SECONDS` (default 60) for this one stream; open "
    "`url` (it carries the ticket) with EventSource, and get a new ticket to reconnect."
)

ROUTES = [
    Route(
        "GET",
        "/v1/media/<media_id>/events",
        media_events,
        operation_id="mediaEvents",
        summary="The media's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        query=EventsQuery,
        responses={200: None},
        errors=(401, 404, 409, 422),
        ticket=True,
    ),
    Route(
        "POST",
        "/v1/media/<media_id>/events/ticket",
        media_ticket,
        operation_id="mediaEventsTicket",
        summary="A short-lived ticket to open the media's event stream from a browser",
        description=_TICKET,
        responses={201: StreamTicket},
        errors=(401, 404),
    ),
    Route(
        "GET",
        "/v1/jobs/<job_id>/events",
        job_events,
        operation_id="jobEvents",
        summary="The job's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        query=EventsQuery,
        responses={200: None},
        errors=(401, 404, 409, 422),
        ticket=True,
    ),
    Route(
        "POST",
        "/v1/jobs/<job_id>/events/ticket",
        job_ticket,
        operation_id="jobEventsTicket",
        summary="A short-lived ticket to open the job's event stream from a browser",
        description=_TICKET,
        responses={201: StreamTicket},
        errors=(401, 404),
    ),
]
