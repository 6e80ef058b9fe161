"""What operators do to media: describe everything about one, purge a device, revive work that was
given up, reissue an upload URL. Authorization (admins only) is the caller's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.core import reasons
from common.core.errors import Conflict
from common.core.settings import get_settings
from common.core.status import GONE_STATUSES, JobStatus, MediaStatus
from common.storage import get_store, layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job, MediaObject, Share, StatusHistory


@dataclass(frozen=True)
class StoredObject:
    """One object the media owns or owned, and what the store says of it now."""

    role: str
    bucket: str
    name: str
    exists: bool
    version: str | None
    size_bytes: int | None


@dataclass(frozen=True)
class Description:
    """Everything about one media for an operator."""

    media: MediaObject
    history: list[StatusHistory]
    jobs: list[Job]
    shares: list[Share]
    objects: list[StoredObject]


def _known_objects(session: Session, media: MediaObject) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from common.db.models import Derivative, StatusHistory, Track

    found = [("original", media.bucket, media.object_name)]
    found += [
        (d.kind, d.bucket, d.object_name)
        for d in session.execute(
            select(Derivative).where(Derivative.media_id == media.id)
        ).scalars()
    ]
    found += [
        (f"track-{t.track_id}", t.snapshot_bucket, t.snapshot_object_name)
        for t in session.execute(select(Track).where(Track.media_id == media.id)).scalars()
        if t.snapshot_bucket and t.snapshot_object_name
    ]
    prefix = get_settings().quarantine_prefix
    versions = session.execute(
        select(StatusHistory.object_version)
        .where(StatusHistory.media_id == media.id, StatusHistory.object_version.is_not(None))
        .distinct()
    ).scalars()
    found += [
        ("quarantine", media.bucket, layout.quarantine_object_name(prefix, media.object_name, v))
        for v in versions
        if v is not None
    ]
    return found


def describe(session: Session, media: MediaObject) -> Description:
    """The media with its history, jobs, shares and the state of each of its objects."""
    from sqlalchemy import select

    from common.db.models import Job, Share, StatusHistory

    history = list(
        session.execute(
            select(StatusHistory)
            .where(StatusHistory.media_id == media.id)
            .order_by(StatusHistory.id)
        ).scalars()
    )
    jobs = list(
        session.execute(
            select(Job).where(Job.media_id == media.id).order_by(Job.created_at)
        ).scalars()
    )
    shares = list(
        session.execute(
            select(Share).where(Share.media_id == media.id).order_by(Share.created_at)
        ).scalars()
    )
    store = get_store()
    objects = []
    for role, bucket, name in _known_objects(session, media):
        info = store.stat(bucket, name)
        objects.append(
            StoredObject(
                role,
                bucket,
                name,
                info is not None,
                info.version if info else None,
                info.size_bytes if info else None,
            )
        )
    return Description(media, history, jobs, shares, objects)


@dataclass(frozen=True)
class PurgeReport:
    """What a purge matched, and what this call deleted."""

    matched_count: int
    matched_bytes: int
    deleted: list[str]
    remaining: int
    matched_events: int = 0
    """Events with a segment in the matched media (deleted, or shortened when they continue
    into media the purge keeps)."""


def purge_device(
    session: Session,
    device_id: str,
    *,
    before: datetime | None,
    dry_run: bool,
    limit: int,
    actor: str,
) -> PurgeReport:
    """Delete a device's media (captured before `before`, when given), at most `limit` per call.

    A dry run deletes nothing and reports how many media, bytes and events match. Deleted media become
    tombstones through the one delete path (reason `purged`); run again until `remaining` is 0.
    """
    from sqlalchemy import func, select

    from common.db.models import EventSegment, MediaObject
    from common.media.delete import delete_media

    conditions = [
        MediaObject.device_id == device_id,
        MediaObject.status.not_in([s.value for s in GONE_STATUSES]),
    ]
    if before is not None:
        conditions.append(MediaObject.captured_at < before)
    count, size = session.execute(
        select(func.count(), func.coalesce(func.sum(MediaObject.size_bytes), 0)).where(*conditions)
    ).one()
    ids = list(
        session.execute(
            select(MediaObject.id).where(*conditions).order_by(MediaObject.captured_at).limit(limit)
        ).scalars()
    )
    matched = select(MediaObject.id).where(*conditions)
    events = int(
        session.execute(
            select(func.count(func.distinct(EventSegment.event_id))).where(
                EventSegment.media_id.in_(matched)
            )
        ).scalar_one()
    )
    deleted: list[str] = []
    if not dry_run:
        for media_id in ids:
            delete_media(
                session, media_id, actor=actor, reason=reasons.reason(reasons.PURGED), cascade=True
            )
            deleted.append(media_id)
        from common.observe import audit

        audit.record(
            "purged",
            actor=actor,
            device_id=device_id,
            details={
                "before": before.isoformat() if before else None,
                "deleted_count": len(deleted),
                "remaining": int(count) - len(deleted),
            },
            session=session,
        )
    return PurgeReport(int(count), int(size), deleted, int(count) - len(deleted), events)


def revive(session: Session, media: MediaObject, *, actor: str) -> str:
    """Bring work on a media that was dead-lettered back to where it can resume.

    A media failed by a dead letter returns to `verified` when its bytes were verified (and is
    handed over to processing again), else to `pending_upload` (an object already stored is
    verified by the reconciler). Its jobs failed by a dead letter are queued again.

    Returns:
        The media's status afterwards.

    Raises:
        Conflict: nothing on it was failed by a dead letter (`not_revivable`).
    """
    from sqlalchemy import select

    from common.db.models import Job
    from common.db.repo import get_media
    from common.jobs.api import enqueue
    from common.media import lifecycle
    from common.media.job_lifecycle import transition_job
    from common.media.verify import hand_over

    status = media.status
    dead = (
        media.status == MediaStatus.FAILED.value
        and media.status_reason_code == reasons.DEAD_LETTERED
    )
    if dead:
        target = MediaStatus.VERIFIED if media.verified_sha256 else MediaStatus.PENDING_UPLOAD
        fields: dict[str, Any] = {} if target is MediaStatus.VERIFIED else {"object_version": None}
        lifecycle.transition(session, media.id, target, event_id=actor, revive=True, fields=fields)
        status = target.value
    dead_jobs = session.execute(
        select(Job.id).where(
            Job.media_id == media.id,
            Job.status == JobStatus.FAILED.value,
            Job.error_code == reasons.DEAD_LETTERED,
        )
    ).scalars()
    revived = [
        transition_job(session, job_id, JobStatus.QUEUED, revive=True)[0]
        for job_id in list(dead_jobs)
    ]
    if not dead and not revived:
        raise Conflict(
            f"nothing on media {media.id} was failed by a dead letter", code="not_revivable"
        )
    session.commit()  # revived before anything is handed over
    if dead and status == MediaStatus.VERIFIED.value:
        hand_over(get_media(session, media.id))
    for job in revived:
        enqueue(job)
    return status


def require_pending(media: MediaObject) -> None:
    """Raise unless the media still waits for its upload.

    Raises:
        Conflict: not `pending_upload` (`not_pending`).
    """
    if media.status != MediaStatus.PENDING_UPLOAD.value:
        raise Conflict(
            f"media {media.id} is {media.status}, not pending_upload", code="not_pending"
        )
