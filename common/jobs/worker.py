"""process_media's logic for `media-jobs` messages: run a clip, snapshot or ingest job.

Ingest jobs (no source media) run in `common.jobs.ingest_worker`. A job already `completed` / `failed` is a duplicate (acknowledged, its mirror re-synced).
Otherwise the worker claims it (`common.db.claims`: one worker at a time, a crashed worker's claim
expires), moves it to `running`, and `common.jobs.results.produce_result` finds or makes its
result media; that media is then analysed by `common.media.analyse.process_media` like any upload
(poster / thumbnail, detections, `processed`), and the job ends `completed`.

Undecodable or vanished sources end the job `failed` with a reason code, acknowledged; storage /
database / Firestore trouble propagates (TransientError) and the message is redelivered. Progress
(0..1, from real frames and packets) and the end go through `common.jobs.state`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.errors import BadRequest, PermanentMediaError
from common.core.ids import JOB_PREFIX, is_valid_id
from common.core.reasons import Reason
from common.core.settings import get_settings
from common.core.status import JOB_TERMINAL_STATUSES, JobKind, JobStatus, MediaStatus
from common.db.claims import claimed
from common.db.repo import get_job, get_media
from common.jobs.state import JobOutcome, progress_writer
from common.media.job_lifecycle import mirror_job, set_job_fields, transition_job

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job, MediaObject
    from common.events.envelope import PubSubMessage

log = logging.getLogger(__name__)

EXTRACT_SHARE = 0.8
"""Share of the job's progress bar taken by cutting; the rest is the result's own analysis."""


def is_job_message(message: PubSubMessage) -> bool:
    """Tell a `media-jobs` message (attribute `kind=job`) from a `media-verified` one."""
    return message.attributes.get("kind") == "job"


def load_job(session: Session, job_id: str) -> tuple[Job, MediaObject] | None:
    """A clip or snapshot job and its source media, or None (an ingest job, or no such job)."""
    from common.core.errors import NotFound

    try:
        job = get_job(session, job_id)
    except NotFound:
        return None
    if job.media_id is None:
        return None
    return job, get_media(session, job.media_id)


def _source_deleted(session: Session, job: Job) -> bool:
    """Tell whether the job's source was deleted (or is being deleted)."""
    from common.media.delete import is_gone

    return job.media_id is not None and is_gone(get_media(session, job.media_id))


def handle_job_message(message: PubSubMessage) -> JobOutcome:
    """Run the job a `media-jobs` message names. Safe to call any number of times, concurrently.

    Message data: JSON `{"job_id"}`.

    Raises:
        BadRequest: the message names no valid job id (poison: acknowledged).
        TransientError: storage / database / Firestore trouble (redelivered).
    """
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str) or not is_valid_id(job_id, JOB_PREFIX):
        raise BadRequest("media-jobs message has no valid job_id")
    from common.db.engine import session_scope

    with session_scope() as session:
        return run_job(session, job_id, message.message_id)


def run_job(session: Session, job_id: str, event_id: str) -> JobOutcome:
    """Run one job (see the module docstring)."""
    from common.core.errors import NotFound

    try:
        job = get_job(session, job_id)
    except NotFound:
        log.warning("job message %s names unknown job %s", event_id, job_id)
        return JobOutcome.UNKNOWN_JOB
    if JobStatus(job.status) in JOB_TERMINAL_STATUSES:
        mirror_job(job)  # re-sync a mirror write that may have failed
        return JobOutcome.DUPLICATE
    with claimed(f"job:{job_id}", get_settings().job_claim_ttl_seconds) as claim:
        if claim is None:
            log.info("job %s is running elsewhere", job_id)
            return JobOutcome.IN_PROGRESS
        if job.kind == JobKind.INGEST.value:
            from common.jobs.ingest_worker import run_ingest

            return run_ingest(session, job_id, event_id)
        return _run_claimed(session, job_id, event_id)


def _end(session: Session, job_id: str, status: JobStatus, reason: Reason | None) -> None:
    transition_job(session, job_id, status, reason=reason)
    session.commit()


def _run_claimed(session: Session, job_id: str, event_id: str) -> JobOutcome:
    from common.jobs.results import produce_result
    from common.media.analyse import ProcessOutcome, process_media

    loaded = load_job(session, job_id)
    assert loaded is not None
    job, source = loaded
    if JobStatus(job.status) in JOB_TERMINAL_STATUSES:
        return JobOutcome.DUPLICATE
    if _source_deleted(session, job):
        _end(session, job_id, JobStatus.FAILED, reasons.reason(reasons.SOURCE_DELETED))
        return JobOutcome.FAILED
    job, _ = transition_job(session, job_id, JobStatus.RUNNING)
    session.commit()
    progress = progress_writer(session, job)
    failure: Reason | None = None
    try:
        with produce_result(session, job, source, lambda f: progress(f * EXTRACT_SHARE)) as result:
            media = result.ingested.media
            set_job_fields(session, job_id, {"result_media_id": media.id, "result": result.details})
            session.commit()
            outcome = process_media(
                session,
                media.id,
                event_id=event_id,
                local_path=result.local_path,
                on_progress=lambda f: progress(EXTRACT_SHARE + (1 - EXTRACT_SHARE) * f),
            )
        if _source_deleted(session, job):  # deleted while the job ran: its result goes too
            from common.media.delete import delete_media

            delete_media(
                session,
                media.id,
                actor=f"job:{job_id}",
                reason=reasons.reason(reasons.SOURCE_DELETED),
            )
            _end(session, job_id, JobStatus.FAILED, reasons.reason(reasons.SOURCE_DELETED))
            log.warning("job %s failed: its source was deleted", job_id)
            return JobOutcome.FAILED
        final = get_media(session, media.id)
        if outcome is ProcessOutcome.IN_PROGRESS:
            return JobOutcome.IN_PROGRESS
        if final.status != MediaStatus.PROCESSED.value:
            failure = reasons.reason(
                reasons.RESULT_FAILED,
                f"The job's result ended {final.status}: {final.status_reason}",
            )
    except PermanentMediaError as exc:
        log.warning("job %s: %s", job_id, exc.message)
        code = exc.code if exc.code == reasons.SOURCE_GONE else reasons.UNDECODABLE
        failure = reasons.reason(
            code, None if code == reasons.SOURCE_GONE else "The source video could not be decoded."
        )
    _end(session, job_id, JobStatus.FAILED if failure else JobStatus.COMPLETED, failure)
    if failure:
        log.warning("job %s failed: %s", job_id, failure.code)
        return JobOutcome.FAILED
    return JobOutcome.COMPLETED
