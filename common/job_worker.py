"""process_media's logic for `media-jobs` messages: run a clip or snapshot job.

A job already `completed` / `failed` is a duplicate (acknowledged, its mirror re-synced).
Otherwise it goes `running` and `common.job_results.produce_result` finds or makes its result: a
media row for an object at a deterministic name in the derivatives bucket
(`<job_id>/clip.mp4`, `<job_id>/snapshot.jpg`), created with `if_generation_match=0` and inserted
with `ON CONFLICT (bucket, object_name) DO NOTHING`. That row then goes through
`common.processing_service.process_local_file` like any upload (poster / thumbnail, detections,
`processed`), and the job ends `completed`.

No lock is held: a redelivery after a crash at any point, or a duplicate delivery running at the
same time, finds the same object name, the same row and the same job result, so there is never a
second result media (at worst the same cut is computed twice). This keeps a job to the one
database connection a process_media instance is sized for.

Undecodable sources (PermanentMediaError) end the job `failed` with the reason, acknowledged;
storage / database / Firestore trouble propagates (TransientError) and the message is redelivered.
Progress (0..1, from real frames and packets) goes to Firestore `jobs/{job_id}` at most every
`job_progress_interval_seconds`, and to the job row (never lowered there); terminal states go to
both.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from common.db.models import JobStatus
from common.errors import BadRequest, NotFound, PermanentMediaError
from common.events import PubSubMessage
from common.settings import get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from common.db.models import Job, MediaObject

log = logging.getLogger(__name__)

EXTRACT_SHARE = 0.8
"""Share of the job's progress bar taken by cutting; the rest is the result's own analysis."""


class JobOutcome(StrEnum):
    """What handling one `media-jobs` message amounted to."""

    COMPLETED = "completed"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    UNKNOWN_JOB = "unknown_job"


def is_job_message(message: PubSubMessage) -> bool:
    """Tell a `media-jobs` message (attribute `kind=job`) from a `media-verified` one."""
    return message.attributes.get("kind") == "job"


def handle_job_message(message: PubSubMessage) -> JobOutcome:
    """Run the job a `media-jobs` message names. Safe to call any number of times, concurrently.

    Message data: JSON `{"job_id"}`.

    Returns:
        The outcome (also logged).

    Raises:
        BadRequest: the message has no job_id (poison: acknowledged by the adapter).
        TransientError: storage / database / Firestore trouble (redelivered).
    """
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str):
        raise BadRequest("media-jobs message has no job_id")
    outcome = _run(job_id, message.message_id)
    log.info("job %s: %s", job_id, outcome.value)
    return outcome


def _load(job_id: str) -> tuple[Job, MediaObject] | None:
    from common.db.engine import session_scope
    from common.db.models import Job, MediaObject

    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        media = session.get(MediaObject, job.media_id)
        assert media is not None  # foreign key
        return job, media


def _update(job_id: str, values: dict[str, Any]) -> Job:
    """Update the job row and return it as committed."""
    from sqlalchemy import update

    from common.db.engine import session_scope
    from common.db.models import Job

    with session_scope() as session:
        return session.execute(
            update(Job).where(Job.id == job_id).values(**values).returning(Job)
        ).scalar_one()


def _start(job_id: str) -> Job:
    from sqlalchemy import func

    from common.db.models import Job

    started_at = func.coalesce(Job.started_at, func.now())
    return _update(job_id, {"status": JobStatus.RUNNING.value, "started_at": started_at})


def _end(job_id: str, status: JobStatus, error: str | None) -> Job:
    from sqlalchemy import func

    values: dict[str, Any] = {"status": status.value, "error": error, "finished_at": func.now()}
    if status is JobStatus.COMPLETED:
        values["progress"] = 1.0
    return _update(job_id, values)


def _mirror(job: Job, device_id: str) -> None:
    from common.jobs import mirror_fields
    from common.mirror import JOBS_COLLECTION, write_document

    write_document(JOBS_COLLECTION, job.id, mirror_fields(job, device_id))


def _progress_writer(job: Job, device_id: str) -> Callable[[float], None]:
    """Throttled progress of the running job to Firestore and to its row."""
    from sqlalchemy import func

    from common.db.models import Job
    from common.mirror import JOBS_COLLECTION, ThrottledProgress, clamp_progress, write_document

    def write(fraction: float) -> None:
        progress = clamp_progress(fraction)
        write_document(JOBS_COLLECTION, job.id, {"status": "running", "progress": progress})
        _update(job.id, {"progress": func.greatest(Job.progress, progress)})

    return ThrottledProgress(write, get_settings().job_progress_interval_seconds)


def _run(job_id: str, event_id: str) -> JobOutcome:
    from common.job_results import produce_result

    loaded = _load(job_id)
    if loaded is None:
        log.warning("job message %s names unknown job %s", event_id, job_id)
        return JobOutcome.UNKNOWN_JOB
    job, source = loaded
    if JobStatus(job.status) in (JobStatus.COMPLETED, JobStatus.FAILED):
        _mirror(job, source.device_id)  # re-sync a mirror write that may have failed
        return JobOutcome.DUPLICATE
    job = _start(job_id)
    _mirror(job, source.device_id)
    progress = _progress_writer(job, source.device_id)
    local: str | None = None
    try:
        result_media_id, local = produce_result(job, source, lambda f: progress(f * EXTRACT_SHARE))
        failure = analyse_result(
            result_media_id,
            local,
            event_id,
            lambda f: progress(EXTRACT_SHARE + (1 - EXTRACT_SHARE) * f),
        )
    except PermanentMediaError as exc:
        failure = exc.message
    finally:
        if local is not None:
            os.unlink(local)
    job = _end(job_id, JobStatus.FAILED if failure else JobStatus.COMPLETED, failure)
    _mirror(job, source.device_id)
    if failure:
        log.warning("job %s failed: %s", job_id, failure)
        return JobOutcome.FAILED
    return JobOutcome.COMPLETED


def analyse_result(
    media_id: str,
    local_path: str | None,
    event_id: str,
    on_progress: Callable[[float], None],
) -> str | None:
    """Bring the result media to `processed` with renditions and detections.

    Args:
        media_id: the result media.
        local_path: its bytes on local disk, or None to download its pinned generation.
        event_id: the job message id, for the status history.
        on_progress: analysis progress (0..1).

    Returns:
        None when the media is processed; otherwise why it is not (it ended `failed`).

    Raises:
        TransientError: storage, database or Firestore trouble.
    """
    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.lifecycle import transition
    from common.processing_service import ProcessOutcome, process_local_file
    from common.storage import download_to_path

    with session_scope() as session:
        media = session.get(MediaObject, media_id)
    if media is None:
        raise NotFound(f"result media {media_id} not found")
    status = MediaStatus(media.status)
    if status is MediaStatus.VERIFIED:
        transition(media_id, MediaStatus.PROCESSING, event_id=event_id)
    elif status is not MediaStatus.PROCESSING:
        if status is MediaStatus.PROCESSED:
            return None
        return f"result media {media_id} is {status.value}: {media.status_reason}"
    path = local_path
    if path is None:
        handle, path = tempfile.mkstemp(
            prefix="job-res-", suffix="." + media.object_name.rsplit(".")[-1]
        )
        os.close(handle)
    try:
        if local_path is None:
            try:
                download_to_path(media.bucket, media.object_name, media.generation, path)
            except NotFound as exc:
                raise PermanentMediaError(f"result object gone: {exc}") from exc
        outcome = process_local_file(media, path, event_id=event_id, on_progress=on_progress)
    finally:
        if local_path is None:
            os.unlink(path)
    if outcome is ProcessOutcome.FAILED:
        with session_scope() as session:
            reason = session.get(MediaObject, media_id).status_reason  # type: ignore[union-attr]
        return f"result media {media_id} failed processing: {reason}"
    return None
