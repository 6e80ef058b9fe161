"""Jobs: queue clip and snapshot jobs on processed videos, and read them back.

A job is identified by what it makes: (media id, kind, params key) is unique in Postgres, where the
params key is the canonical JSON of the validated parameters. So the same request is the same job:
the first answer is 202 (queued), a replay answers 200 with the job as it is now. A new job is
published to the `media-jobs` topic as `{"job_id"}` with attribute `kind=job`; a replay of a job
still `queued` publishes it again (the worker is idempotent), which repairs a publish that failed
after the row was written. Its status changes and realtime document `jobs/{id}` are
`common.media.job_lifecycle`'s.

Who may queue or read a job is decided before these are called (`common.api.access`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from common.core.errors import Conflict, ValidationError
from common.core.ids import JOB_PREFIX, new_id
from common.core.settings import Settings, get_settings
from common.core.status import JobKind, JobStatus, MediaStatus
from common.media.declare import MAX_LABELS, MAX_NOTE_CHARS, Label

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job, MediaObject

log = logging.getLogger(__name__)

MAX_LISTED_JOBS = 100
MAX_JSON_INT = 2**53 - 1
"""The largest integer every JSON reader holds exactly (RFC 8259 section 6)."""


class ResultLabels(BaseModel):
    """Labels and a note for the media a job makes (part of what identifies the job)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class ClipParams(ResultLabels):
    """Body of `POST /v1/media/{id}/clips`: the range `[start_ms, start_ms + duration_ms)`."""

    start_ms: int = Field(ge=0, le=MAX_JSON_INT)
    duration_ms: int = Field(gt=0, le=MAX_JSON_INT)


class SnapshotParams(ResultLabels):
    """Body of `POST /v1/media/{id}/snapshots`: the time of the wanted frame."""

    at_ms: int = Field(ge=0, le=MAX_JSON_INT)


PARAMS_MODELS: dict[JobKind, type[BaseModel]] = {
    JobKind.CLIP: ClipParams,
    JobKind.SNAPSHOT: SnapshotParams,
}


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


@dataclass(frozen=True)
class Queued:
    """Outcome of a job request: the job as it is now, and whether this call created it."""

    job: Job
    created: bool


def create_job(
    session: Session,
    media: MediaObject,
    kind: JobKind,
    params: dict[str, Any],
    *,
    created_by: str,
    checked: bool = False,
) -> Queued:
    """Insert the job for (media, kind, params), or find the identical earlier one.

    The caller commits, then calls `enqueue_if_queued`.

    Args:
        session: the unit of work.
        media: the source (the first part's for a clip across recordings).
        kind: clip or snapshot.
        params: the validated parameters.
        created_by: who asks.
        checked: the caller checked the range itself (a clip across recordings).

    Raises:
        ValidationError, Conflict: see `check_request`.
    """
    from common.db.models import Job
    from common.db.repo import insert_or_get

    if not checked:
        check_request(kind, params, media, get_settings())
    key = params_key(params)
    job, created = insert_or_get(
        session,
        Job,
        {
            "id": new_id(JOB_PREFIX),
            "media_id": media.id,
            "device_id": media.device_id,
            "kind": kind.value,
            "params": params,
            "params_key": key,
            "status": JobStatus.QUEUED.value,
            "progress": 0.0,
            "created_by": created_by,
        },
        {"media_id": media.id, "kind": kind.value, "params_key": key},
    )
    return Queued(job, created)


def enqueue(job: Job) -> None:
    """Publish `{"job_id"}` to the jobs topic (attributes `kind=job`, `job_kind`).

    Raises:
        TransientError: the publish failed (the caller answers 503; a retry publishes again).
    """
    from common.events.publish import publish_json

    topic = get_settings().media_jobs_topic
    publish_json(topic, {"job_id": job.id}, kind="job", job_kind=job.kind)


def enqueue_if_queued(job: Job) -> None:
    """`enqueue` the job while it is still queued (a replay repairs a publish that failed).

    Raises:
        TransientError: the publish failed.
    """
    if job.status == JobStatus.QUEUED.value:
        enqueue(job)


def media_jobs(session: Session, media_id: str) -> list[Job]:
    """The media's jobs, newest first (at most `MAX_LISTED_JOBS`)."""
    from sqlalchemy import select

    from common.db.models import Job

    return list(
        session.execute(
            select(Job)
            .where(Job.media_id == media_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(MAX_LISTED_JOBS)
        ).scalars()
    )
