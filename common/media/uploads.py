"""How a device's bytes reach the store, and how the device says they are there.

Protocols (the declaration's `upload_protocol`; without one the server picks `resumable` from
`RESUMABLE_THRESHOLD_BYTES` up, `single` below):

- **single**: one signed PUT of the whole object (`common.media.ingest.sign_upload`).
- **resumable on Cloud Storage**: a signed POST with `x-goog-resumable: start` that the device
  sends to open a session; it PUTs chunks to the session URI it gets back, with `Content-Range`
  (https://cloud.google.com/storage/docs/performing-resumable-uploads). The device holds the
  session URI and the offset the last `308` confirmed; the last chunk creates the object.
- **resumable on S3**: a multipart upload the server creates; each part (`chunk_size_bytes`, the
  last shorter) has a presigned PUT pinning its length; a declaration replayed while the upload
  runs answers the parts S3 holds and fresh URLs for the others; `complete()` completes it.

Every protocol ends with the same verification of the object's live version (`verify_version`:
size, hashes, type against the declaration), reached by the bucket's notification or by
`complete()` (`POST /v1/media/{id}/complete`), whichever comes first: its claim makes the other a
no-op. A resumable upload's row is in `upload_sessions`; the reconciler gives it
`RESUMABLE_UPLOAD_TTL_SECONDS` instead of the upload URL's lifetime (`expired_pending_uploads`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from common.core.errors import Conflict
from common.core.settings import RESUMABLE_CHUNK_GRANULE_BYTES, Settings, get_settings
from common.core.status import BEFORE_VERIFICATION, MediaStatus
from common.db.repo import get_media
from common.media.ingest import sign_upload, upload_contract
from common.media.verify import Outcome, verify_version
from common.storage import get_store
from common.storage.base import (
    RESUMABLE_GCS,
    RESUMABLE_S3,
    MultipartUploads,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    SignedRequest,
    StoredPart,
    UploadPart,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject, UploadSession

log = logging.getLogger(__name__)

SINGLE = "single"
RESUMABLE = "resumable"
MAX_PARTS = 10_000
"""S3's limit of parts per multipart upload."""
WAIT_POLL_SECONDS = 0.2
"""How often `complete()` looks at a verification running elsewhere."""


@dataclass(frozen=True)
class ResumableOffer:
    """A resumable upload as the device sees it.

    Attributes:
        protocol: `gcs_resumable` or `s3_multipart`.
        chunk_size_bytes: chunk (GCS: any multiple of 256 KiB works, this one is suggested) or
            part size (S3: exact; the last part is shorter).
        start: Cloud Storage: the signed POST that opens the session.
        upload_id: S3: the multipart upload id.
        parts: S3: the parts still to send, each with its signed PUT.
        received_parts: S3: numbers of the parts stored with their planned size.
        received_bytes: S3: their bytes.
    """

    protocol: str
    chunk_size_bytes: int
    start: SignedRequest | None = None
    upload_id: str | None = None
    parts: list[tuple[UploadPart, SignedRequest]] = field(default_factory=list)
    received_parts: list[int] = field(default_factory=list)
    received_bytes: int = 0


@dataclass(frozen=True)
class UploadOffer:
    """What a pending media's declaration answers: one signed PUT, or a resumable upload."""

    single: SignedRequest | None = None
    resumable: ResumableOffer | None = None


@dataclass(frozen=True)
class Completed:
    """What `complete()` found: the row as it is now, and the verification outcome (None when
    the media was already past verification)."""

    media: MediaObject
    outcome: Outcome | None


def choose_protocol(requested: str | None, size_bytes: int, settings: Settings) -> str:
    """`requested`, or `resumable` from `resumable_threshold_bytes` up and `single` below."""
    if requested in (SINGLE, RESUMABLE):
        return requested
    return RESUMABLE if size_bytes >= settings.resumable_threshold_bytes else SINGLE


def chunk_size_for(size_bytes: int, settings: Settings) -> int:
    """`resumable_chunk_size_bytes`, raised (in 256 KiB steps) so that at most 10,000 parts
    hold `size_bytes`."""
    needed = max(settings.resumable_chunk_size_bytes, -(-size_bytes // MAX_PARTS))
    return -(-needed // RESUMABLE_CHUNK_GRANULE_BYTES) * RESUMABLE_CHUNK_GRANULE_BYTES


def plan_parts(size_bytes: int, chunk_size_bytes: int) -> list[UploadPart]:
    """Parts 1..n of `chunk_size_bytes` (the last holds the rest) covering `size_bytes`."""
    return [
        UploadPart(number, offset, min(chunk_size_bytes, size_bytes - offset))
        for number, offset in enumerate(range(0, size_bytes, chunk_size_bytes), start=1)
    ]


def _multipart(store: ObjectStore) -> MultipartUploads:
    if store.multipart is None:
        raise RuntimeError("an S3 multipart upload on a store without multipart uploads")
    return store.multipart


def _upload_row(session: Session, media_id: str) -> UploadSession | None:
    from common.db.models import UploadSession

    return session.get(UploadSession, media_id, populate_existing=True)


def _begin(
    session: Session, media: MediaObject, store: ObjectStore, settings: Settings
) -> UploadSession:
    """Start the store's resumable upload and record it (the first of concurrent ones wins)."""
    from common.db.models import UploadSession
    from common.db.repo import insert_or_get

    started = store.start_resumable(
        media.bucket,
        media.object_name,
        upload_contract(media),
        ttl_seconds=settings.upload_url_ttl_seconds,
    )
    values = {
        "media_id": media.id,
        "protocol": started.protocol,
        "upload_id": started.upload_id,
        "chunk_size_bytes": chunk_size_for(media.size_bytes, settings),
    }
    row, created = insert_or_get(session, UploadSession, values, {"media_id": media.id})
    session.commit()
    if not created and started.upload_id is not None:
        _multipart(store).abort_parts(media.bucket, media.object_name, started.upload_id)
    return row


def _restart(
    session: Session, media: MediaObject, row: UploadSession, store: ObjectStore
) -> UploadSession:
    """A new multipart upload in place of one that is gone (aborted by a lifecycle rule)."""
    from sqlalchemy import update

    from common.db.models import UploadSession

    started = store.start_resumable(
        media.bucket,
        media.object_name,
        upload_contract(media),
        ttl_seconds=get_settings().upload_url_ttl_seconds,
    )
    changed = session.execute(
        update(UploadSession)
        .where(UploadSession.media_id == media.id, UploadSession.upload_id == row.upload_id)
        .values(upload_id=started.upload_id)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    if not changed and started.upload_id is not None:  # another request restarted it first
        _multipart(store).abort_parts(media.bucket, media.object_name, started.upload_id)
    fresh = _upload_row(session, media.id)
    assert fresh is not None
    return fresh


def _received(plan: list[UploadPart], stored: list[StoredPart]) -> dict[int, StoredPart]:
    """The stored parts that have their planned size, by number."""
    sizes = {part.number: part.size_bytes for part in plan}
    return {p.number: p for p in stored if sizes.get(p.number) == p.size_bytes}


def _multipart_offer(
    session: Session,
    media: MediaObject,
    row: UploadSession,
    store: ObjectStore,
    settings: Settings,
    fresh: bool,
) -> ResumableOffer:
    multipart = _multipart(store)
    upload_id = row.upload_id
    assert upload_id is not None
    plan = plan_parts(media.size_bytes, row.chunk_size_bytes)
    stored = [] if fresh else multipart.list_parts(media.bucket, media.object_name, upload_id)
    if stored is None:  # completed (the object is there: the device should call complete)
        if store.stat(media.bucket, media.object_name) is not None:
            done = [part.number for part in plan]
            return ResumableOffer(
                RESUMABLE_S3, row.chunk_size_bytes, upload_id=upload_id,
                received_parts=done, received_bytes=media.size_bytes,
            )  # fmt: skip
        row = _restart(session, media, row, store)  # or aborted: begin again
        upload_id = row.upload_id
        assert upload_id is not None
        stored = []
    received = _received(plan, stored)
    missing = [part for part in plan if part.number not in received]
    signed = multipart.sign_parts(
        media.bucket,
        media.object_name,
        upload_id,
        missing,
        ttl_seconds=settings.upload_url_ttl_seconds,
    )
    return ResumableOffer(
        RESUMABLE_S3,
        row.chunk_size_bytes,
        upload_id=upload_id,
        parts=list(zip(missing, signed, strict=True)),
        received_parts=sorted(received),
        received_bytes=sum(p.size_bytes for p in received.values()),
    )


def offer_upload(session: Session, media: MediaObject, requested: str | None) -> UploadOffer:
    """How a `pending_upload` media's bytes are to be sent (see the module docstring).

    A replayed declaration gets the same protocol and, for a resumable upload, the same session:
    on S3 the parts already stored and fresh signed PUTs for the others.

    Args:
        session: the caller's unit of work (committed when a resumable upload is recorded).
        media: the declared row.
        requested: the declaration's `upload_protocol` (None: by size).

    Raises:
        StorageUnavailable: the store or signing failed.
        TransientError: the database is unavailable.
    """
    settings = get_settings()
    store = get_store()
    row = _upload_row(session, media.id)
    fresh = False
    if row is None:
        if choose_protocol(requested, media.size_bytes, settings) == SINGLE:
            return UploadOffer(single=sign_upload(media))
        row, fresh = _begin(session, media, store, settings), True
    if row.protocol == RESUMABLE_S3:
        offer = _multipart_offer(session, media, row, store, settings, fresh)
        return UploadOffer(resumable=offer)
    started = store.start_resumable(
        media.bucket,
        media.object_name,
        upload_contract(media),
        ttl_seconds=settings.upload_url_ttl_seconds,
    )
    return UploadOffer(resumable=ResumableOffer(RESUMABLE_GCS, row.chunk_size_bytes, started.start))


def _complete_parts(
    session: Session, media: MediaObject, row: UploadSession, store: ObjectStore
) -> None:
    """Complete an S3 multipart upload whose planned parts are all stored.

    Raises:
        Conflict: `upload_incomplete`, with the missing part numbers and the bytes received.
    """
    from sqlalchemy import update

    from common.core.times import utc_now
    from common.db.models import UploadSession

    multipart = _multipart(store)
    assert row.upload_id is not None
    stored = multipart.list_parts(media.bucket, media.object_name, row.upload_id)
    if stored is not None:
        plan = plan_parts(media.size_bytes, row.chunk_size_bytes)
        received = _received(plan, stored)
        missing = [part.number for part in plan if part.number not in received]
        if missing:
            raise Conflict(
                f"{len(missing)} of {len(plan)} parts are not stored yet",
                code="upload_incomplete",
                details={
                    "missing_parts": missing[:100],
                    "received_bytes": sum(p.size_bytes for p in received.values()),
                },
            )
        try:
            multipart.complete_parts(
                media.bucket, media.object_name, row.upload_id, [received[p.number] for p in plan]
            )
        except (ObjectExists, ObjectNotFound):
            log.info("media %s: the multipart upload was completed elsewhere", media.id)
    session.execute(
        update(UploadSession)
        .where(UploadSession.media_id == media.id, UploadSession.completed_at.is_(None))
        .values(completed_at=utc_now())
    )
    session.commit()


def _wait_past_verification(session: Session, media_id: str, timeout_seconds: float) -> MediaObject:
    """The row once it leaves `pending_upload` / `uploaded`, or after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        media = get_media(session, media_id)
        session.commit()  # no connection held while waiting
        if MediaStatus(media.status) not in BEFORE_VERIFICATION or time.monotonic() >= deadline:
            return media
        time.sleep(WAIT_POLL_SECONDS)


def complete(session: Session, media: MediaObject, *, event_id: str | None) -> Completed:
    """The device says its bytes are stored: complete a multipart upload, verify the live
    version now (the same `verify_version` as the notification; a verification already running
    elsewhere is waited for up to `complete_wait_seconds`). Idempotent.

    Args:
        session: the caller's unit of work (committed at each step).
        media: a row the caller may see.
        event_id: the request, for the history.

    Returns:
        The row as it is now and what verification did.

    Raises:
        Conflict: `upload_incomplete` (409): no object stored yet, or S3 parts missing.
        TransientError: storage, database, Pub/Sub or Firestore unavailable.
    """
    if MediaStatus(media.status) not in BEFORE_VERIFICATION:
        return Completed(media, None)
    settings = get_settings()
    store = get_store()
    row = _upload_row(session, media.id)
    session.commit()
    if row is not None and row.protocol == RESUMABLE_S3 and row.completed_at is None:
        _complete_parts(session, media, row, store)
    live = store.stat(media.bucket, media.object_name)
    if live is None:
        raise Conflict(
            "no bytes are stored for this media yet", code="upload_incomplete", details={}
        )
    outcome = verify_version(session, media.id, live.version, event_id=event_id)
    if outcome is Outcome.IN_PROGRESS:
        waited = _wait_past_verification(session, media.id, settings.complete_wait_seconds)
        return Completed(waited, outcome)
    return Completed(get_media(session, media.id), outcome)


def expired_pending_uploads(session: Session, now: datetime, limit: int) -> list[MediaObject]:
    """`pending_upload` rows past their upload's lifetime plus `pending_upload_grace_seconds`,
    oldest first: the upload URL's (`upload_url_ttl_seconds`) for single uploads,
    `resumable_upload_ttl_seconds` from the session's start for resumable ones."""
    from sqlalchemy import and_, or_, select

    from common.db.models import MediaObject, UploadSession

    settings = get_settings()
    grace = settings.pending_upload_grace_seconds
    single_before = now - timedelta(seconds=settings.upload_url_ttl_seconds + grace)
    resumable_before = now - timedelta(seconds=settings.resumable_upload_ttl_seconds + grace)
    return list(
        session.execute(
            select(MediaObject)
            .outerjoin(UploadSession, UploadSession.media_id == MediaObject.id)
            .where(
                MediaObject.status == MediaStatus.PENDING_UPLOAD.value,
                or_(
                    and_(
                        UploadSession.media_id.is_(None),
                        MediaObject.created_at < single_before,
                    ),
                    UploadSession.created_at < resumable_before,
                ),
            )
            .order_by(MediaObject.created_at)
            .limit(limit)
        ).scalars()
    )


def settle_expired(session: Session, media: MediaObject) -> None:
    """Before an expired upload is judged: an S3 multipart upload whose parts are all stored is
    completed (its object is then verified), any other is aborted (its parts dropped)."""
    row = _upload_row(session, media.id)
    session.commit()
    if row is None or row.protocol != RESUMABLE_S3 or row.completed_at is not None:
        return
    store = get_store()
    try:
        _complete_parts(session, media, row, store)
    except Conflict:
        assert row.upload_id is not None
        _multipart(store).abort_parts(media.bucket, media.object_name, row.upload_id)
