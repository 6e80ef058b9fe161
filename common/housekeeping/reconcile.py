"""The reconciler: nothing stays in an intermediate state forever.

Run on a schedule (the `reconcile` tick); each run handles at most `reconcile_batch_size` rows of
each kind, oldest first, and is safe to run twice at once (everything it calls is idempotent and
claims its work):

- `pending_upload` rows whose upload URL expired more than `pending_upload_grace_seconds` ago
  (a resumable upload: `resumable_upload_ttl_seconds` after it began): if the object is there after
  all (its notification was lost; an S3 multipart upload whose parts are all stored is completed
  first) it is verified, else the row ends `failed` with reason `upload_expired`;
- `uploaded` rows untouched for `stuck_after_seconds` with no live verification claim: the live
  version is verified again;
- `verified` and `processing` rows untouched that long with no live processing claim:
  `media-verified` is published again;
- `queued` and `running` jobs untouched that long with no live claim: the job is published again;
- `deleting` media untouched that long (storage was unavailable when they were deleted): the
  delete is finished;
- webhook deliveries queued that long ago and never attempted (their publish failed): published
  again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.settings import get_settings
from common.core.status import JobStatus, MediaStatus
from common.core.times import utc_now
from common.db.claims import is_claimed
from common.media import lifecycle, uploads
from common.media.verify import hand_over, verify_version
from common.storage import get_store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job, MediaObject

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """What one run did (counts of rows)."""

    expired: int = 0
    verified_again: int = 0
    handed_over_again: int = 0
    jobs_requeued: int = 0
    deletes_finished: int = 0
    deliveries_published: int = 0
    media_ids: list[str] = field(default_factory=list)


def _media(
    session: Session, status: MediaStatus, before: datetime, column: str, limit: int
) -> list[MediaObject]:
    from sqlalchemy import select

    from common.db.models import MediaObject

    when = getattr(MediaObject, column)
    found = list(
        session.execute(
            select(MediaObject)
            .where(MediaObject.status == status.value, when < before)
            .order_by(when)
            .limit(limit)
        ).scalars()
    )
    session.commit()
    return found


def _jobs(session: Session, before: datetime, limit: int) -> list[Job]:
    from sqlalchemy import select

    from common.db.models import Job

    found = list(
        session.execute(
            select(Job)
            .where(
                Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                Job.updated_at < before,
            )
            .order_by(Job.updated_at)
            .limit(limit)
        ).scalars()
    )
    session.commit()
    return found


def _expire_or_verify(session: Session, media: MediaObject, report: ReconcileReport) -> None:
    uploads.settle_expired(session, media)  # S3 multipart: completed if whole, else aborted
    live = get_store().stat(media.bucket, media.object_name)
    if live is not None:
        verify_version(session, media.id, live.version, event_id="reconcile")
        report.verified_again += 1
    elif lifecycle.transition(
        session,
        media.id,
        MediaStatus.FAILED,
        reason=reasons.reason(reasons.UPLOAD_EXPIRED),
        event_id="reconcile",
        expected=MediaStatus.PENDING_UPLOAD,
    ):
        report.expired += 1
    session.commit()
    report.media_ids.append(media.id)


def _republish_deliveries(session: Session, older_than_seconds: float, limit: int) -> int:
    from common.webhooks.outbox import publish, stale_pending

    stale = stale_pending(session, older_than_seconds=older_than_seconds, limit=limit)
    publish(stale)
    return len(stale)


def reconcile(session: Session, now: datetime | None = None) -> ReconcileReport:
    """One reconciler run (see the module docstring).

    Args:
        session: the caller's unit of work (committed after each row).
        now: the time to judge ages against (tz-aware UTC; default: now).

    Returns:
        What it did.

    Raises:
        TransientError: database, storage, Pub/Sub or Firestore unavailable (the tick is retried).
    """
    from common.jobs.api import enqueue

    settings = get_settings()
    now = now or utc_now()
    limit = settings.reconcile_batch_size
    report = ReconcileReport()
    expired = uploads.expired_pending_uploads(session, now, limit)
    session.commit()
    for media in expired:
        _expire_or_verify(session, media, report)
    stuck_before = now - timedelta(seconds=settings.stuck_after_seconds)
    for media in _media(session, MediaStatus.UPLOADED, stuck_before, "updated_at", limit):
        if media.object_version and is_claimed(f"verify:{media.id}:{media.object_version}"):
            continue
        live = get_store().stat(media.bucket, media.object_name)
        if live is not None:
            verify_version(session, media.id, live.version, event_id="reconcile")
            report.verified_again += 1
            report.media_ids.append(media.id)
    for status in (MediaStatus.VERIFIED, MediaStatus.PROCESSING):
        for media in _media(session, status, stuck_before, "updated_at", limit):
            if is_claimed(f"process:{media.id}"):
                continue
            hand_over(media)
            report.handed_over_again += 1
            report.media_ids.append(media.id)
    for media in _media(session, MediaStatus.DELETING, stuck_before, "updated_at", limit):
        from common.media.delete import finish_delete

        finish_delete(session, media.id)  # storage was down when it was deleted
        report.deletes_finished += 1
    for job in _jobs(session, stuck_before, limit):
        if is_claimed(f"job:{job.id}"):
            continue
        enqueue(job)
        report.jobs_requeued += 1
    report.deliveries_published = _republish_deliveries(
        session, settings.stuck_after_seconds, limit
    )
    session.commit()
    log.info(
        "reconcile: %d expired, %d verified again, %d handed over again, %d jobs requeued",
        report.expired,
        report.verified_again,
        report.handed_over_again,
        report.jobs_requeued,
    )
    return report
