"""Deleting media: every stored byte and the realtime mirror go, a tombstone row stays.

`delete_media()` is the one delete path (the API's `DELETE /v1/media/{id}`, retention, purge):

1. the row moves to `deleting` (who and when recorded; from then on it is gone for listings and
   shares), and jobs still queued or running on it end `failed` with `source_deleted`;
2. with `cascade`, its children (clips and snapshots cut from it) are deleted the same way;
   without, they stay and keep `parent_id` as a dangling reference to the tombstone;
3. `finish_delete()` removes the original's version and quarantined versions (unless other media
   share those stored bytes: they go with the last of them, `common.media.dedupe`), renditions
   and track snapshots, then its events' segments (events left with none are deleted, the others
   recomputed: `common.media.events.removal`), the detections, tracks, motion segments and
   derivative rows, scrubs what the row said about the content (labels, note, file name, hashes,
   properties), deletes the Firestore document, and moves the row to `deleted`.

Every step is idempotent. When storage fails in step 3 the row stays `deleting` and the reconciler
finishes it later, so a row never points at bytes that are half gone without saying so.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.errors import TransientError
from common.core.reasons import Reason
from common.core.settings import get_settings
from common.core.status import GONE_STATUSES, JobStatus, MediaStatus
from common.db.repo import get_media
from common.media import lifecycle
from common.media.job_lifecycle import transition_job
from common.storage import get_store, layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject

log = logging.getLogger(__name__)


class DeleteOutcome(StrEnum):
    """What a delete did."""

    DELETED = "deleted"
    ALREADY_DELETED = "already_deleted"
    PENDING = "pending"
    """Marked `deleting`; storage was unavailable, the reconciler will finish."""


def _begin(
    session: Session, media_id: str, actor: str, reason: Reason
) -> tuple[MediaObject, list[str]] | None:
    """Mark the row `deleting` and end its unfinished jobs (committed); None when it is already
    deleted."""
    from sqlalchemy import select

    from common.db.models import Job, MediaObject

    media = get_media(session, media_id, lock=True)
    if media.status == MediaStatus.DELETED.value:
        session.commit()
        return None
    running = session.execute(
        select(Job.id).where(
            Job.media_id == media_id,
            Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        )
    ).scalars()
    for job_id in list(running):
        transition_job(
            session, job_id, JobStatus.FAILED, reason=reasons.reason(reasons.SOURCE_DELETED)
        )
    children = list(
        session.execute(select(MediaObject.id).where(MediaObject.parent_id == media_id)).scalars()
    )
    if media.status != MediaStatus.DELETING.value:
        lifecycle.transition(
            session,
            media_id,
            MediaStatus.DELETING,
            reason=reason,
            event_id=actor,
            fields={"deleted_by": actor},
        )
    session.commit()
    return media, children


def _objects_of(session: Session, media: MediaObject) -> list[tuple[str, str, str | None]]:
    """(bucket, object name, version) of every object the media owns: its renditions and track
    snapshots, and its stored bytes with their quarantined versions unless another media that is
    not being deleted names the same object (`common.media.dedupe.bytes_in_use`): shared bytes
    go with the last media that uses them."""
    from sqlalchemy import or_, select

    from common.db.models import Derivative, MediaObject, StatusHistory, Track
    from common.media.dedupe import bytes_in_use, bytes_owner

    settings = get_settings()
    shared = bytes_in_use(session, media)
    found: list[tuple[str, str, str | None]] = []
    if not shared:
        found.append((media.bucket, media.object_name, media.object_version))
    found += [
        (d.bucket, d.object_name, None)
        for d in session.execute(
            select(Derivative).where(Derivative.media_id == media.id)
        ).scalars()
    ]
    found += [
        (t.snapshot_bucket, t.snapshot_object_name, None)
        for t in session.execute(select(Track).where(Track.media_id == media.id)).scalars()
        if t.snapshot_bucket and t.snapshot_object_name
    ]
    owner = bytes_owner(media)
    group = select(MediaObject.id).where(
        or_(MediaObject.id == owner, MediaObject.shares_bytes_of == owner)
    )
    versions = session.execute(  # set aside under any media of the stored object
        select(StatusHistory.object_version).where(
            StatusHistory.media_id.in_(group), StatusHistory.object_version.is_not(None)
        )
    ).scalars()
    for version in set(versions) if not shared else ():
        if version is not None:
            found.append(
                (
                    media.bucket,
                    layout.quarantine_object_name(
                        settings.quarantine_prefix, media.object_name, version
                    ),
                    None,
                )
            )
    if shared:
        log.info("media %s: its stored bytes stay, other media share them", media.id)
    return found


def _scrub(session: Session, media_id: str) -> None:
    from sqlalchemy import delete

    from common.db.engine import on_commit
    from common.db.models import Derivative, Detection, MotionSegment, Track
    from common.media.events.build import event_data
    from common.media.events.notify import mirror_events, unmirror_events
    from common.media.events.removal import remove_segments

    get_media(session, media_id, lock=True)
    changed, gone = remove_segments(session, media_id)
    documents = [event_data(event) for event in changed]

    def mirror() -> None:
        mirror_events(documents)
        unmirror_events(gone)

    on_commit(session, mirror)
    for model in (Detection, Track, MotionSegment, Derivative):
        session.execute(delete(model).where(model.media_id == media_id))
    lifecycle.update_fields(
        session,
        media_id,
        {
            "labels": [],
            "note": None,
            "original_filename": None,
            "reason": None,
            "sha256": "",
            "md5": "",
            "verified_sha256": None,
            "verified_md5": None,
            "sampling_id": None,
            "width_px": None,
            "height_px": None,
            "duration_ms": None,
            "video_codec": None,
            "frame_rate": None,
            "decode_warnings": None,
            "analysis": None,
        },
        expected=MediaStatus.DELETING,
    )


def finish_delete(session: Session, media_id: str) -> DeleteOutcome:
    """Remove a `deleting` media's bytes and content and make it a `deleted` tombstone
    (committed).

    Returns:
        DELETED, ALREADY_DELETED, or PENDING when storage was unavailable (still `deleting`).
    """
    media = get_media(session, media_id)
    if media.status == MediaStatus.DELETED.value:
        return DeleteOutcome.ALREADY_DELETED
    store = get_store()
    objects = _objects_of(session, media)
    session.commit()  # nothing held while the store works
    try:
        for bucket, name, version in objects:
            store.delete(bucket, name, version)
            if version is not None:
                store.delete(bucket, name)  # a newer version (an overwrite) goes too
    except TransientError:
        log.warning("media %s stays deleting: storage unavailable", media_id, exc_info=True)
        return DeleteOutcome.PENDING
    _scrub(session, media_id)
    lifecycle.transition(
        session,
        media_id,
        MediaStatus.DELETED,
        reason=_reason_of(media),
        expected=MediaStatus.DELETING,
        fields={"deleted_at": _now()},
    )
    session.commit()
    log.info("media %s deleted by %s", media_id, media.deleted_by)
    return DeleteOutcome.DELETED


def _reason_of(media: MediaObject) -> Reason:
    return Reason(media.status_reason_code or reasons.DELETED, media.status_reason or "")


def _now() -> object:
    from sqlalchemy import func

    return func.now()


def delete_media(
    session: Session,
    media_id: str,
    *,
    actor: str,
    reason: Reason | None = None,
    cascade: bool = False,
) -> DeleteOutcome:
    """Delete a media (see the module docstring). Idempotent; commits the caller's session at
    each step.

    Args:
        session: the caller's unit of work.
        media_id: the media.
        actor: who asks (`user:<id>`, `device:<id>`, `retention`, `admin:<id>`), recorded.
        reason: why (default `deleted`); retention and purges say so.
        cascade: also delete the clips and snapshots cut from it.

    Returns:
        What happened (the media itself).

    Raises:
        NotFound: no such media.
        TransientError: the database or Firestore is unavailable.
    """
    from common.observe import audit

    why = reason or reasons.reason(reasons.DELETED)
    begun = _begin(session, media_id, actor, why)
    if begun is None:
        return DeleteOutcome.ALREADY_DELETED
    media, children = begun
    audit.record(
        "deleted",
        actor=actor,
        media_id=media_id,
        device_id=media.device_id,
        details={"reason_code": why.code, "cascade": cascade},
        session=session,
    )
    session.commit()
    if cascade:
        for child in children:
            delete_media(session, child, actor=actor, reason=reason, cascade=True)
    return finish_delete(session, media_id)


def is_gone(media: MediaObject) -> bool:
    """Tell whether a media is being or has been deleted."""
    return MediaStatus(media.status) in GONE_STATUSES
