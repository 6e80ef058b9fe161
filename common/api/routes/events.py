"""The live routes: Server-Sent Events of one media, one job, or every media of a caller's
devices (served by the stream service, `common.streams`: `STREAM_ROUTES`), and the stream
tickets a browser opens them with (list_media: `TICKET_ROUTES`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import schemas
from common.api.app import Call, Reply, Route


class EventsQuery(BaseModel):
    """An event stream's query: a stream ticket, for clients that cannot send headers."""

    model_config = ConfigDict(extra="forbid")

    ticket: str | None = Field(default=None, min_length=16, max_length=2048)


class EventsStreamQuery(BaseModel):
    """`GET /v1/events/stream`'s query: filters, a ticket, and where to resume."""

    model_config = ConfigDict(extra="forbid")

    ticket: str | None = Field(default=None, min_length=16, max_length=2048)
    device_id: str | None = Field(default=None, min_length=1, max_length=128)
    camera_id: str | None = Field(default=None, min_length=1, max_length=128)
    last_event_id: str | None = Field(default=None, min_length=1, max_length=256)


EVENTS_STREAM_PATH = "/v1/events/stream"


class StreamTicket(schemas.Schema):
    """A ticket opening one event stream: `url` (relative to the API's base URL) carries it."""

    ticket: str
    expires_at: schemas.UtcTime
    url: str


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


def events_ticket(call: Call) -> Reply:
    """`POST /v1/events/stream/ticket`: a ticket for the caller's own per-user stream."""
    return _ticket_for(call, EVENTS_STREAM_PATH)


def served_by_the_stream_service(call: Call) -> Response:
    """The handler of a stream route in any other service: streams are the stream service's
    (`common.streams`); reaching one elsewhere means the request bypassed the API's one origin.

    Raises:
        MisdirectedRequest: always (421).
    """
    from common.core.errors import MisdirectedRequest

    raise MisdirectedRequest(
        f"{call.request.method} {call.request.path} is served by the stream service: send it "
        "to the API's base URL",
        details={"service": "streams"},
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

_USER_STREAM = (
    "Every version of the realtime document of every media of the caller's devices (a user "
    "token or ticket: the devices it owns; a device token: its own), narrowed by `device_id` "
    "and `camera_id`: `event: media` with the document as `data:` (media_id, device_id, "
    "camera_id, kind, status, progress, captured_at, updated_at, seq, ...), `event: ready` once "
    "live, `event: reset` when a resume is too old; `id:` is a cursor across documents (resume "
    "with `Last-Event-ID` or `?last_event_id=`). A heartbeat comment every "
    '`SSE_HEARTBEAT_SECONDS`; ends after `SSE_MAX_SECONDS`. docs/CONTRACTS.md, "Live status".'
)

STREAM_ROUTES = [
    Route(
        "GET",
        "/v1/media/<media_id>/events",
        served_by_the_stream_service,
        operation_id="mediaEvents",
        summary="The media's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        query=EventsQuery,
        responses={200: None},
        errors=(401, 404, 409, 422),
        ticket=True,
    ),
    Route(
        "GET",
        "/v1/jobs/<job_id>/events",
        served_by_the_stream_service,
        operation_id="jobEvents",
        summary="The job's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        query=EventsQuery,
        responses={200: None},
        errors=(401, 404, 409, 422),
        ticket=True,
    ),
    Route(
        "GET",
        EVENTS_STREAM_PATH,
        served_by_the_stream_service,
        operation_id="eventsStream",
        summary="Every media of the caller's devices, live (Server-Sent Events)",
        description=_USER_STREAM,
        query=EventsStreamQuery,
        responses={200: None},
        errors=(401, 404, 409, 422),
        ticket=True,
    ),
]

TICKET_ROUTES = [
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
        "POST",
        "/v1/jobs/<job_id>/events/ticket",
        job_ticket,
        operation_id="jobEventsTicket",
        summary="A short-lived ticket to open the job's event stream from a browser",
        description=_TICKET,
        responses={201: StreamTicket},
        errors=(401, 404),
    ),
    Route(
        "POST",
        "/v1/events/stream/ticket",
        events_ticket,
        operation_id="eventsStreamTicket",
        summary="A short-lived ticket to open the caller's event stream from a browser",
        description=_TICKET,
        responses={201: StreamTicket},
        errors=(401,),
    ),
]
