"""list_media's job routes: queue a clip or a snapshot of a processed video, read jobs."""

from __future__ import annotations

from common.api import schemas
from common.api.app import Call, Handler, Reply, Route
from common.core.status import JobKind
from common.jobs.api import PARAMS_MODELS, ClipParams, SnapshotParams


def _create(kind: JobKind) -> Handler:
    def create(call: Call) -> Reply:
        """`POST /v1/media/{media_id}/clips|snapshots`: 202 queued, 200 for the same request."""
        from common.api.access import load_media
        from common.db.engine import session_scope
        from common.jobs.api import create_job, enqueue_if_queued

        params = call.body(PARAMS_MODELS[kind]).model_dump()
        with session_scope() as session:
            media = load_media(session, call.principal, call.params["media_id"])
            queued = create_job(session, media, kind, params, created_by=call.principal.actor)
        enqueue_if_queued(queued.job)
        return Reply(schemas.job(queued.job), 202 if queued.created else 200)

    return create


def media_jobs(call: Call) -> Reply:
    """`GET /v1/media/{media_id}/jobs`: the media's jobs, newest first."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.jobs.api import media_jobs as jobs_of

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        items = [schemas.job(j) for j in jobs_of(session, media.id)]
    return Reply(schemas.JobPage(items=items))


def get_job(call: Call) -> Reply:
    """`GET /v1/jobs/{job_id}`."""
    from common.api.access import load_job
    from common.db.engine import session_scope

    with session_scope() as session:
        return Reply(schemas.job(load_job(session, call.principal, call.params["job_id"])))


_JOB_ERRORS = (400, 401, 404, 409, 413, 422, 503)

ROUTES = [
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
