"""Job status changes: checked against the job state machine (`common.core.status`), written to
the row, mirrored to `jobs/{job_id}` in Firestore. The only writer of `jobs.status` after a job
is queued, and the only writer of its mirror document.

`transition_job()` is to jobs what `common.media.lifecycle.transition` is to media: a change the
machine does not allow (a repeated or late end, a job its source's delete ended first) changes
nothing and re-mirrors the row as it is. Progress (0..1) goes to the row (never lowered) and to the
mirror through `mirror_job` as well.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from common.core.status import JobStatus, can_transition_job
from common.db.engine import on_commit
from common.db.repo import get_job
from common.media.mirror import JOBS_COLLECTION, clamp_progress, write_document

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.core.reasons import Reason
    from common.db.models import Job

log = logging.getLogger(__name__)


def mirror_fields(job: Job, *, progress: float | None = None) -> dict[str, Any]:
    """The fields of `jobs/{job_id}` (without `updated_at` / `seq`), as docs/CONTRACTS.md lists
    them; `progress` overrides the row's."""
    return {
        "job_id": job.id,
        "kind": job.kind,
        "media_id": job.media_id,
        "device_id": job.device_id,
        "status": job.status,
        "progress": job.progress if progress is None else clamp_progress(progress),
        "result_media_id": job.result_media_id,
        "error_code": job.error_code,
        "error": job.error,
    }


def mirror_job(job: Job, *, progress: float | None = None) -> None:
    """Write the job's state to `jobs/{job_id}` now.

    Raises:
        TransientError: Firestore unreachable.
    """
    write_document(JOBS_COLLECTION, job.id, mirror_fields(job, progress=progress))


def _mirror_on_commit(session: Session, job: Job) -> None:
    fields = mirror_fields(job)  # the state of this change, whatever follows it
    on_commit(session, lambda: write_document(JOBS_COLLECTION, fields["job_id"], fields))


def transition_job(
    session: Session,
    job_id: str,
    target: JobStatus,
    *,
    reason: Reason | None = None,
    fields: dict[str, Any] | None = None,
    revive: bool = False,
) -> tuple[Job, bool]:
    """Move a job to `target` if the job state machine allows it (in the caller's transaction;
    mirrored once it commits).

    Entering `running` stamps `started_at` (once); a terminal status stamps `finished_at` and
    records `reason` as `error_code` / `error`; `completed` sets progress 1.0. A revival
    (`revive`: failed -> queued) clears the error and the end time.

    Args:
        session: the caller's unit of work.
        job_id: the job.
        target: the status to enter.
        reason: why it failed (for `failed`).
        fields: other columns to set in the same change (`result_media_id`, `result`).
        revive: an operator's revival of a dead-lettered job.

    Returns:
        The job as it is now and whether its status changed (False: a logged no-op).

    Raises:
        NotFound: no such job.
    """
    from sqlalchemy import func

    job = get_job(session, job_id, lock=True)
    previous = job.status
    allowed = can_transition_job(previous, target, revive=revive)
    if allowed:
        job.status = target.value
        if target is JobStatus.RUNNING:
            job.started_at = job.started_at or func.now()
        elif target is JobStatus.QUEUED:
            job.error_code = job.error = job.finished_at = None
        else:
            job.error_code = reason.code if reason else None
            job.error = reason.message if reason else None
            job.finished_at = func.now()
            if target is JobStatus.COMPLETED:
                job.progress = 1.0
        for name, value in (fields or {}).items():
            setattr(job, name, value)
        session.flush()
        session.refresh(job)
    else:
        log.info("job %s: %s -> %s is a no-op", job_id, previous, target.value)
    _mirror_on_commit(session, job)
    return job, allowed


def set_job_fields(session: Session, job_id: str, fields: dict[str, Any]) -> Job:
    """Set columns of a job other than its status (`result_media_id`, `result`).

    Raises:
        NotFound: no such job.
    """
    if "status" in fields:
        raise ValueError("job status changes go through transition_job()")
    job = get_job(session, job_id, lock=True)
    for name, value in fields.items():
        setattr(job, name, value)
    return job


def record_progress(session: Session, job: Job, fraction: float) -> None:
    """A running job's progress: mirrored at once, and on its row (never lowered) when the caller
    commits.

    Raises:
        TransientError: Firestore unreachable.
    """
    from sqlalchemy import func, update

    from common.db.models import Job as JobRow

    progress = clamp_progress(fraction)
    mirror_job(job, progress=progress)
    session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.status == JobStatus.RUNNING.value)
        .values(progress=func.greatest(JobRow.progress, progress))
    )
