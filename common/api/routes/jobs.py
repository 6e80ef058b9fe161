"""list_media's job routes: queue a clip or a snapshot of a processed video, a clip of a
camera's wall-clock window, read jobs."""

from __future__ import annotations

from pydantic import Field

from common.api import bodies, schemas
from common.api.app import Call, Handler, Reply, Route
from common.core.status import JobKind
from common.core.times import UtcInput
from common.jobs.api import MAX_JSON_INT, PARAMS_MODELS, ClipParams, ResultLabels, SnapshotParams


class WindowClipRequest(ResultLabels):
    """`POST /v1/devices/{id}/cameras/{camera}/clips`: the window `[start_at, start_at +
    duration_ms)` on the wall clock (RFC 3339 with an offset)."""

    start_at: UtcInput = Field(strict=False)
    duration_ms: int = Field(gt=0, le=MAX_JSON_INT)


def window_clip(call: Call) -> Reply:
    """Queue a clip of a camera's window of time, across recordings when it spans two."""
    from datetime import UTC

    from common.api.access import require_device
    from common.core.errors import NotFound, ValidationError
    from common.core.ids import is_segment
    from common.core.settings import get_settings
    from common.db.engine import session_scope
    from common.jobs.api import create_job, enqueue_if_queued
    from common.media.recordings import window_parts

    device_id, camera_id = call.params["device_id"], call.params["camera_id"]
    if not is_segment(camera_id):
        raise NotFound(f"camera {camera_id!r} not found")
    request = call.body(WindowClipRequest)
    limit = get_settings().max_clip_duration_ms
    if request.duration_ms > limit:
        raise ValidationError(
            f"duration_ms {request.duration_ms} exceeds {limit}",
            code="clip_too_long",
            details={"max_duration_ms": limit},
        )
    labels = request.model_dump(include={"labels", "note"}, exclude_defaults=True)
    with session_scope() as session:
        require_device(session, call.principal, device_id)
        parts = window_parts(
            session, device_id, camera_id, request.start_at.astimezone(UTC), request.duration_ms
        )
        first = parts[0]
        if len(parts) == 1:
            params = {"start_ms": first.start_ms, "duration_ms": first.duration_ms, **labels}
            queued = create_job(
                session, first.media, JobKind.CLIP, params, created_by=call.principal.actor
            )
        else:
            spans = [
                {"media_id": p.media.id, "start_ms": p.start_ms, "duration_ms": p.duration_ms}
                for p in parts
            ]
            queued = create_job(
                session,
                first.media,
                JobKind.CLIP,
                {"parts": spans, **labels},
                created_by=call.principal.actor,
                checked=True,
            )
    enqueue_if_queued(queued.job)
    return Reply(bodies.job(queued.job), 202 if queued.created else 200)


def _create(kind: JobKind) -> Handler:
    def create(call: Call) -> Reply:
        """`POST /v1/media/{media_id}/clips|snapshots`: 202 queued, 200 for the same request."""
        from common.api.access import load_media
        from common.db.engine import session_scope
        from common.jobs.api import create_job, enqueue_if_queued

        params = call.body(PARAMS_MODELS[kind]).model_dump(exclude_defaults=True)
        with session_scope() as session:
            media = load_media(session, call.principal, call.params["media_id"])
            queued = create_job(session, media, kind, params, created_by=call.principal.actor)
        enqueue_if_queued(queued.job)
        return Reply(bodies.job(queued.job), 202 if queued.created else 200)

    return create


def media_jobs(call: Call) -> Reply:
    """`GET /v1/media/{media_id}/jobs`: the media's jobs, newest first."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.jobs.api import media_jobs as jobs_of

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        items = [bodies.job(j) for j in jobs_of(session, media.id)]
    return Reply(schemas.JobPage(items=items))


def get_job(call: Call) -> Reply:
    """`GET /v1/jobs/{job_id}`."""
    from common.api.access import load_job
    from common.db.engine import session_scope

    with session_scope() as session:
        return Reply(bodies.job(load_job(session, call.principal, call.params["job_id"])))


_JOB_ERRORS = (400, 401, 404, 409, 413, 422, 503)

ROUTES = [
    Route(
        "POST",
        "/v1/devices/<device_id>/cameras/<camera_id>/clips",
        window_clip,
        operation_id="createWindowClip",
        summary="Cut a clip of a camera's wall-clock window, across recordings if it spans two",
        description=(
            "Finds the camera's processed recordings covering `[start_at, start_at + "
            "duration_ms)`; one output clip even when the window spans a boundary. 422 "
            "`no_recording` with the nearest covered ranges when nothing covers it. Same "
            "idempotency, progress and result rules as the media clip route."
        ),
        body=WindowClipRequest,
        responses={202: schemas.JobBody, 200: schemas.JobBody},
        errors=_JOB_ERRORS,
    ),
    Route(
        "POST",
        "/v1/media/<media_id>/clips",
        _create(JobKind.CLIP),
        operation_id="createClip",
        summary="Cut a clip [start_ms, start_ms + duration_ms) of a processed video",
        description="Idempotent per (media, params): 202 when queued, 200 with the same job after.",
        body=ClipParams,
        responses={202: schemas.JobBody, 200: schemas.JobBody},
        errors=_JOB_ERRORS,
    ),
    Route(
        "POST",
        "/v1/media/<media_id>/snapshots",
        _create(JobKind.SNAPSHOT),
        operation_id="createSnapshot",
        summary="Take the frame at or after at_ms of a processed video as a JPEG",
        description="Idempotent per (media, params): 202 when queued, 200 with the same job after.",
        body=SnapshotParams,
        responses={202: schemas.JobBody, 200: schemas.JobBody},
        errors=_JOB_ERRORS,
    ),
    Route(
        "GET",
        "/v1/media/<media_id>/jobs",
        media_jobs,
        operation_id="listMediaJobs",
        summary="The media's jobs, newest first",
        responses={200: schemas.JobPage},
        errors=(401, 404),
    ),
    Route(
        "GET",
        "/v1/jobs/<job_id>",
        get_job,
        operation_id="getJob",
        summary="One job: status, progress, result",
        responses={200: schemas.JobBody},
        errors=(401, 404),
    ),
]
