"""list_media's live routes: a media's or a job's status and progress as Server-Sent Events."""

from __future__ import annotations

from werkzeug.wrappers import Response

from common.api.app import Call, Route


def media_events(call: Call) -> Response:
    """`GET /v1/media/{media_id}/events` (`text/event-stream`, see `common.api.sse`)."""
    from common.api.access import load_media
    from common.api.sse import MEDIA_TERMINAL, event_response
    from common.db.engine import session_scope
    from common.media.mirror import MEDIA_COLLECTION

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
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
    from common.db.models import MediaObject
    from common.jobs.api import mirror_fields
    from common.media.mirror import JOBS_COLLECTION

    with session_scope() as session:
        job = load_job(session, call.principal, call.params["job_id"])
        source = session.get(MediaObject, job.media_id)
        device_id = source.device_id if source else ""
    return event_response(
        JOBS_COLLECTION,
        job.id,
        JOB_TERMINAL,
        call.request.headers.get("Last-Event-ID"),
        mirror_fields(job, device_id),
    )


_STREAM = (
    "An event per version of the realtime document: `event: status` when the status changes, "
    "`event: progress` otherwise; `id:` is the document's `seq` (resume with `Last-Event-ID`). "
    "Ends after a terminal status or `SSE_MAX_SECONDS`."
)

ROUTES = [
    Route(
        "GET",
        "/v1/media/<media_id>/events",
        media_events,
        operation_id="mediaEvents",
        summary="The media's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        responses={200: None},
        errors=(401, 404, 409),
    ),
    Route(
        "GET",
        "/v1/jobs/<job_id>/events",
        job_events,
        operation_id="jobEvents",
        summary="The job's status and progress, live (Server-Sent Events)",
        description=_STREAM,
        responses={200: None},
        errors=(401, 404, 409),
    ),
]
