"""A job's state: its row and its realtime document `jobs/{job_id}` (written here only).

Terminal states go to both; progress (0..1) goes to Firestore at most every
`job_progress_interval_seconds` and to the row (never lowered there).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from common.core.settings import get_settings
from common.core.status import JobStatus
from common.jobs.api import mirror_fields

if TYPE_CHECKING:
    from common.core.reasons import Reason
    from common.db.models import Job


class JobOutcome(StrEnum):
    """What handling one `media-jobs` message amounted to."""

    COMPLETED = "completed"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"
    UNKNOWN_JOB = "unknown_job"


def get_job(job_id: str) -> Job | None:
    """The job row, or None."""
    from common.db.engine import session_scope
    from common.db.models import Job

    with session_scope() as session:
        return session.get(Job, job_id)


def update_job(job_id: str, values: dict[str, Any]) -> Job:
    """Update the job row and return it as committed."""
    from sqlalchemy import update

    from common.db.engine import session_scope
    from common.db.models import Job

    with session_scope() as session:
        return session.execute(
            update(Job).where(Job.id == job_id).values(**values).returning(Job)
        ).scalar_one()


def mirror_job(job: Job) -> None:
    """Write the job's current state to `jobs/{job_id}`.

    Raises:
        TransientError: Firestore unreachable.
    """
    from common.media.mirror import JOBS_COLLECTION, write_document

    write_document(JOBS_COLLECTION, job.id, mirror_fields(job))


def end_job(job_id: str, status: JobStatus, reason: Reason | None) -> Job:
    """Record a job's terminal status (and reason) on the row and in its mirror, unless it ended
    already (a delete of its source ends it `failed` first)."""
    from sqlalchemy import func, update

    from common.db.engine import session_scope
    from common.db.models import Job

    values: dict[str, Any] = {
        "status": status.value,
        "error_code": reason.code if reason else None,
        "error": reason.message if reason else None,
        "finished_at": func.now(),
    }
    if status is JobStatus.COMPLETED:
        values["progress"] = 1.0
    unfinished = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
    with session_scope() as session:
        ended = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(unfinished))
            .values(**values)
            .returning(Job)
        ).scalar_one_or_none()
        job = ended or session.get(Job, job_id)
    assert job is not None
    mirror_job(job)
    return job


def progress_writer(job: Job) -> Callable[[float], None]:
    """Throttled progress of the running job to Firestore and to its row."""
    from sqlalchemy import func

    from common.db.models import Job
    from common.media.mirror import (
        JOBS_COLLECTION,
        ThrottledProgress,
        clamp_progress,
        write_document,
    )

    def write(fraction: float) -> None:
        progress = clamp_progress(fraction)
        write_document(JOBS_COLLECTION, job.id, {"status": "running", "progress": progress})
        update_job(job.id, {"progress": func.greatest(Job.progress, progress)})

    return ThrottledProgress(write, get_settings().job_progress_interval_seconds)
