"""process_media's logic for `media-jobs` messages: run a clip or snapshot job.

One job at a time per job id: the worker holds a Postgres session-level advisory lock on the job
for the whole run (released on return, or by the server when a crashed worker's connection
drops), and a second delivery that finds it held raises TransientError to be redelivered later.

Under the lock: a job already `completed` / `failed` is a duplicate (acknowledged, mirror
re-synced). Otherwise it goes `running`; unless an earlier attempt already recorded its result,
the source's pinned generation is downloaded, cut (`common.processing.clip` /
`common.processing.snapshot`), hashed (size, SHA-256, MD5, sampling id) and written to the
derivatives bucket at a deterministic name (`<job_id>/clip.mp4`, `<job_id>/snapshot.jpg`); a
media row is inserted for it at `verified` with `ON CONFLICT DO NOTHING` on (bucket, object name)
and, in the same transaction, recorded on the job. That row then goes through
`common.processing_service.process_local_file` like any upload (poster / thumbnail, detections,
`processed`), and the job ends `completed`. A retry after a crash at any point finds the same
object name, the same row, the same job result: never a second derived media.

Undecodable sources (PermanentMediaError) end the job `failed` with the reason, acknowledged;
storage / database / Firestore trouble propagates (TransientError) and the message is redelivered.
Progress (0..1, from real frames and packets) goes to Firestore `jobs/{job_id}` at most every
`job_progress_interval_seconds`, and to the job row; terminal states go to both.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from common.db.models import JobKind, JobStatus
from common.errors import BadRequest, NotFound, PermanentMediaError, TransientError
from common.events import PubSubMessage
from common.settings import get_settings

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
    """Run the job a `media-jobs` message names. Safe to call any number of times.

    Message data: JSON `{"job_id"}`.

    Returns:
        The outcome (also logged).

    Raises:
        BadRequest: the message has no job_id (poison: acknowledged by the adapter).
        TransientError: another worker holds the job, or storage / database / Firestore
            trouble (redelivered).
    """
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str):
        raise BadRequest("media-jobs message has no job_id")
    with _exclusive(job_id) as acquired:
        if not acquired:
            raise TransientError(f"job {job_id} is being run by another worker")
        outcome = _run(job_id, message.message_id)
    log.info("job %s: %s", job_id, outcome.value)
    return outcome


@contextmanager
def _exclusive(job_id: str) -> Iterator[bool]:
    """Hold `pg_try_advisory_lock` on the job for the block; yield whether it was acquired."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from common.db.engine import get_engine

    key = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big", signed=True)
    try:
        connection = get_engine().connect()
        acquired = bool(
            connection.execute(text("select pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        )
        connection.commit()
    except DBAPIError as exc:
        raise TransientError(f"database unavailable: {exc.__class__.__name__}") from exc
    try:
        yield acquired
    finally:
        try:
            if acquired:
                connection.execute(text("select pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        except DBAPIError:
            connection.invalidate()  # closing the session releases the lock
        finally:
            connection.close()


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
    from common.mirror import JOBS_COLLECTION, ThrottledProgress, clamp_progress, write_document

    def write(fraction: float) -> None:
        progress = clamp_progress(fraction)
        write_document(JOBS_COLLECTION, job.id, {"status": "running", "progress": progress})
        _update(job.id, {"progress": progress})

    return ThrottledProgress(write, get_settings().job_progress_interval_seconds)


def _run(job_id: str, event_id: str) -> JobOutcome:
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
        if job.result_media_id is None:
            local = _make_result(job, source, lambda f: progress(f * EXTRACT_SHARE))
        return _finish_result(job_id, source, local, event_id, progress)
    except PermanentMediaError as exc:
        return _fail(job_id, source.device_id, exc.message)
    finally:
        if local is not None:
            os.unlink(local)


def _fail(job_id: str, device_id: str, reason: str) -> JobOutcome:
    job = _end(job_id, JobStatus.FAILED, reason)
    _mirror(job, device_id)
    log.warning("job %s failed: %s", job_id, reason)
    return JobOutcome.FAILED


def _make_result(job: Job, source: MediaObject, progress: Callable[[float], None]) -> str:
    """Cut the job's result into a local file, store it and record its media row.

    Returns:
        The local file (the caller deletes it).

    Raises:
        PermanentMediaError: the source is unreadable or gone.
        TransientError: storage or database trouble.
    """
    from pathlib import Path

    from common.job_results import record_result, run_operation
    from common.storage import download_to_path

    handle, source_path = tempfile.mkstemp(
        prefix="job-src-", suffix="." + source.object_name.rsplit(".")[-1]
    )
    os.close(handle)
    kind = JobKind(job.kind)
    handle, result_path = tempfile.mkstemp(
        prefix="job-out-", suffix=".mp4" if kind is JobKind.CLIP else ".jpg"
    )
    os.close(handle)
    try:
        try:
            download_to_path(source.bucket, source.object_name, source.generation, source_path)
        except NotFound as exc:
            raise PermanentMediaError(f"source object gone: {exc}") from exc
        details = run_operation(kind, job.params, Path(source_path), Path(result_path), progress)
        record_result(job, source, Path(result_path), details)
    except BaseException:
        os.unlink(result_path)
        raise
    finally:
        os.unlink(source_path)
    return result_path


def _finish_result(
    job_id: str,
    source: MediaObject,
    local: str | None,
    event_id: str,
    progress: Callable[[float], None],
) -> JobOutcome:
    """Bring the recorded result media to `processed`, then complete the job."""
    from common.job_results import analyse_result

    loaded = _load(job_id)
    result_media_id = loaded[0].result_media_id if loaded is not None else None
    if result_media_id is None:
        raise TransientError(f"job {job_id} has no recorded result yet")
    outcome = analyse_result(
        result_media_id,
        local,
        event_id,
        lambda f: progress(EXTRACT_SHARE + (1 - EXTRACT_SHARE) * f),
    )
    if outcome is not None:
        return _fail(job_id, source.device_id, outcome)
    job = _end(job_id, JobStatus.COMPLETED, None)
    _mirror(job, source.device_id)
    return JobOutcome.COMPLETED
