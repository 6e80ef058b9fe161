"""The jobs API: queue clip and snapshot jobs on processed videos, and read them back.

A job is identified by what it makes: (media id, kind, params key) is unique in Postgres, where the
params key is the canonical JSON of the validated parameters. So the same request is the same job:
the first answer is 202 (queued), a replay answers 200 with the job as it is now. A new job is
published to the `media-jobs` topic as `{"job_id"}` with attribute `kind=job`; a replay of a job
still `queued` publishes it again (the worker is idempotent), which repairs a publish that failed
after the row was written.

Authorization is the listing's: the caller must see the media's device (device token of that
device, or a user owning it); anything else is 404.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from common.db.models import JobKind, JobStatus
from common.errors import Conflict, NotFound, ValidationError
from common.http import iso_utc
from common.ids import JOB_PREFIX, is_valid_id, new_id
from common.settings import Settings, get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.auth import Principal
    from common.db.models import Job, MediaObject

__all__ = [
    "ClipParams",
    "JobKind",
    "JobResult",
    "SnapshotParams",
    "create_job",
    "get_job",
    "list_media_jobs",
    "params_key",
]

log = logging.getLogger(__name__)

MAX_LISTED_JOBS = 100


class ClipParams(BaseModel):
    """Body of `POST /v1/media/{id}/clips`: the range `[start_ms, start_ms + duration_ms)`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    start_ms: int = Field(ge=0)
    duration_ms: int = Field(gt=0)


class SnapshotParams(BaseModel):
    """Body of `POST /v1/media/{id}/snapshots`: the time of the wanted frame."""

    model_config = ConfigDict(extra="forbid", strict=True)

    at_ms: int = Field(ge=0)


_PARAMS: dict[JobKind, type[BaseModel]] = {
    JobKind.CLIP: ClipParams,
    JobKind.SNAPSHOT: SnapshotParams,
}


def validation_error(
    exc: PydanticError, message: str = "request body is invalid"
) -> ValidationError:
    """Turn a pydantic error into the API's 422 with `details: [{field, message}]`."""
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return ValidationError(message, details=details)


def parse_params(kind: JobKind, body: Any) -> dict[str, int]:
    """Validate a job request body.

    Returns:
        The parameters as a plain dict (e.g. `{"start_ms": 2000, "duration_ms": 3000}`).

    Raises:
        ValidationError: wrong shape, missing or extra fields, non-integers, negative values (422).
    """
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    try:
        model = _PARAMS[kind].model_validate(body)
    except PydanticError as exc:
        raise validation_error(exc) from exc
    return dict(model.model_dump())


def params_key(params: dict[str, Any]) -> str:
    """Canonical form of job parameters: JSON with sorted keys and no spaces.

    Equal parameters give equal keys whatever their order or layout in the request, e.g.
    `{"duration_ms":3000,"start_ms":2000}`.
    """
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def check_request(
    kind: JobKind, params: dict[str, int], media: MediaObject, settings: Settings
) -> None:
    """Check a job against its source media.

    Raises:
        ValidationError: not a video (`not_a_video`), a clip longer than `max_clip_duration_ms`
            (`clip_too_long`), or a range outside `[0, duration_ms)` (`range_out_of_bounds`): 422.
        Conflict: the media is not processed yet, so its duration is unknown (`not_ready`): 409.
    """
    if media.media_type != "video":
        raise ValidationError(
            f"media {media.id} is {media.media_type}, not a video", code="not_a_video"
        )
    if media.status != MediaStatus.PROCESSED.value or media.duration_ms is None:
        raise Conflict(
            f"media {media.id} is {media.status}; jobs need a processed video",
            code="not_ready",
            details={"status": media.status},
        )
    duration_ms = media.duration_ms
    if kind is JobKind.CLIP:
        length = params["duration_ms"]
        if length > settings.max_clip_duration_ms:
            raise ValidationError(
                f"duration_ms {length} exceeds {settings.max_clip_duration_ms}",
                code="clip_too_long",
                details={"max_duration_ms": settings.max_clip_duration_ms},
            )
        if params["start_ms"] + length > duration_ms:
            raise ValidationError(
                f"[{params['start_ms']}, {params['start_ms'] + length}) ms is outside the "
                f"video's {duration_ms} ms",
                code="range_out_of_bounds",
                details={"duration_ms": duration_ms},
            )
    elif params["at_ms"] >= duration_ms:
        raise ValidationError(
            f"at_ms {params['at_ms']} is outside the video's {duration_ms} ms",
            code="range_out_of_bounds",
            details={"duration_ms": duration_ms},
        )


def job_body(job: Job) -> dict[str, Any]:
    """The API view of a job."""
    return {
        "job_id": job.id,
        "media_id": job.media_id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "params": job.params,
        "result_media_id": job.result_media_id,
        "result": job.result,
        "error": job.error,
        "created_by": job.created_by,
        "created_at": iso_utc(job.created_at),
        "updated_at": iso_utc(job.updated_at),
        "started_at": iso_utc(job.started_at),
        "finished_at": iso_utc(job.finished_at),
        "links": {"self": f"/v1/jobs/{job.id}", "events": f"/v1/jobs/{job.id}/events"},
    }


@dataclass(frozen=True)
class JobResult:
    """Outcome of a job request: `created` is False for a replay of the same request."""

    created: bool
    body: dict[str, Any]


def create_job(principal: Principal, media_id: str, kind: JobKind, body: Any) -> JobResult:
    """Queue a clip or snapshot job on a processed video (idempotent, see the module docstring).

    Args:
        principal: the caller (device or user).
        media_id: the source media.
        kind: clip or snapshot.
        body: the decoded JSON body (`ClipParams` or `SnapshotParams`).

    Returns:
        `created` and the job body (`job_body`).

    Raises:
        ValidationError: see `parse_params` and `check_request` (422).
        NotFound: the media does not exist or is not visible to the caller (404).
        Conflict: the media is not processed yet (409 `not_ready`).
        TransientError: the database or Pub/Sub is unavailable (503; retrying is safe).
    """
    from sqlalchemy import select
    from sqlalchemy.dialects.postgresql import insert

    from common.db.engine import session_scope
    from common.db.models import Job
    from common.listing import load_visible

    settings = get_settings()
    params = parse_params(kind, body)
    key = params_key(params)
    with session_scope() as session:
        media = load_visible(session, principal, media_id)
        check_request(kind, params, media, settings)
        inserted = session.execute(
            insert(Job)
            .values(
                id=new_id(JOB_PREFIX),
                media_id=media_id,
                kind=kind.value,
                params=params,
                params_key=key,
                status=JobStatus.QUEUED.value,
                progress=0.0,
                created_by=f"{principal.kind}:{principal.subject}",
            )
            .on_conflict_do_nothing(constraint="uq_jobs_media_kind_params")
            .returning(Job.id)
        ).scalar_one_or_none()
        job = session.execute(
            select(Job).where(
                Job.media_id == media_id, Job.kind == kind.value, Job.params_key == key
            )
        ).scalar_one()
        device_id = media.device_id
    if inserted is not None:
        _mirror_queued(job, device_id)
    if job.status == JobStatus.QUEUED.value:
        enqueue(job.id, kind)
    return JobResult(created=inserted is not None, body=job_body(job))


def enqueue(job_id: str, kind: JobKind) -> str:
    """Publish `{"job_id"}` to the jobs topic with attributes `kind=job`, `job_kind`.

    Returns:
        The Pub/Sub message id.

    Raises:
        TransientError: the publish failed.
    """
    from common.pubsub import publish_json

    topic = get_settings().media_jobs_topic
    return publish_json(topic, {"job_id": job_id}, kind="job", job_kind=kind.value)


def _mirror_queued(job: Job, device_id: str) -> None:
    """First version of `jobs/{id}` so that an event stream opened now has something to show."""
    from common.errors import TransientError
    from common.mirror import JOBS_COLLECTION, write_document

    try:
        write_document(JOBS_COLLECTION, job.id, mirror_fields(job, device_id))
    except TransientError:
        log.warning("could not mirror queued job %s; the worker will", job.id, exc_info=True)


def mirror_fields(job: Job, device_id: str) -> dict[str, Any]:
    """The fields of `jobs/{job_id}` in Firestore (without `updated_at` / `seq`)."""
    return {
        "job_id": job.id,
        "kind": job.kind,
        "media_id": job.media_id,
        "device_id": device_id,
        "status": job.status,
        "progress": job.progress,
        "result_media_id": job.result_media_id,
        "error": job.error,
    }


def load_visible_job(session: Session, principal: Principal, job_id: str) -> Job:
    """Load a job whose media the caller may see.

    Raises:
        NotFound: malformed id, no such job, or its media's device is not visible (404).
    """
    from common.db.models import Job
    from common.listing import load_visible

    job = session.get(Job, job_id) if is_valid_id(job_id, JOB_PREFIX) else None
    if job is None:
        raise NotFound(f"job {job_id} not found")
    try:
        load_visible(session, principal, job.media_id)
    except NotFound as exc:
        raise NotFound(f"job {job_id} not found") from exc
    return job


def get_job(principal: Principal, job_id: str) -> dict[str, Any]:
    """`GET /v1/jobs/{job_id}`: the job body.

    Raises:
        NotFound: see `load_visible_job`.
    """
    from common.db.engine import session_scope

    with session_scope() as session:
        return job_body(load_visible_job(session, principal, job_id))


def list_media_jobs(principal: Principal, media_id: str) -> dict[str, Any]:
    """`GET /v1/media/{id}/jobs`: the media's jobs, newest first (at most `MAX_LISTED_JOBS`).

    Returns:
        `{"items": [job_body...]}`.

    Raises:
        NotFound: the media does not exist or is not visible to the caller.
    """
    from sqlalchemy import select

    from common.db.engine import session_scope
    from common.db.models import Job
    from common.listing import load_visible

    with session_scope() as session:
        load_visible(session, principal, media_id)
        jobs = session.execute(
            select(Job)
            .where(Job.media_id == media_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(MAX_LISTED_JOBS)
        ).scalars()
        return {"items": [job_body(job) for job in jobs]}
