"""Verification: check a stored object version against what was declared, once per version.

`verify_version()` is the one verification of the pipeline, whoever stored the bytes: a bucket
notification (`handle_object_notification`, finalize_upload), the server after storing bytes it
was given (inline snapshots, job results; `common.media.ingest`), or the reconciler. It claims the
version (`common.db.claims`, so concurrent deliveries do the work once), pins it on the row
(`pending_upload -> uploaded`), streams that exact version once through SHA-256 / MD5 / size / the
xxHash64 sampling id while keeping its first bytes to sniff the real type, then moves the row to
`verified` and hands it over (publishes `media-verified`), or to `rejected` with a reason code and
quarantines (or deletes) the bytes. `verified` is committed before the publish; a redelivered
notification for a row still `verified` publishes again (processing is idempotent), so a crash
between the two loses nothing.

Versions are opaque: a version other than the pinned one is checked against the live version.
Not live: stale, ignored. Live, after the content was verified: an overwrite, rejected, recorded in
the history and its bytes quarantined, so verified content is never silently replaced. Live, before
verification finished: the newer upload replaces the pinned one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from common.core import reasons
from common.core.hashing import ContentDigest, StreamingDigester
from common.core.reasons import Reason
from common.core.settings import Settings, get_settings
from common.core.status import BEFORE_VERIFICATION, MediaStatus
from common.db.claims import claimed
from common.db.repo import get_media
from common.events.notifications import StorageNotification, storage_notifications
from common.media import lifecycle
from common.media.sniff import SNIFF_BYTES, matches_declared, sniff_mime
from common.storage import get_store, layout
from common.storage.base import ObjectNotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject
    from common.events.envelope import PubSubMessage
    from common.storage.base import ObjectInfo

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What handling one notification or verification request amounted to."""

    VERIFIED = "verified"
    REJECTED = "rejected"
    OVERWRITE_REJECTED = "overwrite_rejected"
    DUPLICATE = "duplicate"
    HANDED_OVER_AGAIN = "handed_over_again"
    IN_PROGRESS = "in_progress"
    STALE_VERSION = "stale_version"
    VERSION_GONE = "version_gone"
    IGNORED_EVENT_TYPE = "ignored_event_type"
    IGNORED_OUTSIDE_LAYOUT = "ignored_outside_layout"
    UNKNOWN_OBJECT = "unknown_object"
    TOO_OLD = "too_old"
    NOTHING = "nothing"


def compare(
    media: MediaObject, digest: ContentDigest, info: ObjectInfo, sniffed: str | None
) -> Reason | None:
    """Why the measured bytes break the declaration, or None when everything matches.

    `info.md5_base64` is the store's MD5, used when the digest did not compute one. The code is
    that of the first mismatch; the sentence lists them all.
    """
    problems: list[tuple[str, str]] = []
    if digest.size_bytes != media.size_bytes:
        problems.append(
            (
                reasons.SIZE_MISMATCH,
                f"{digest.size_bytes} bytes instead of the declared {media.size_bytes}",
            )
        )
    if digest.sha256_hex != media.sha256:
        problems.append((reasons.SHA256_MISMATCH, "the SHA-256 differs from the declared one"))
    if (digest.md5_base64 or info.md5_base64) != media.md5:
        problems.append((reasons.MD5_MISMATCH, "the MD5 differs from the declared one"))
    stored_type = (info.content_type or media.mime_type).lower().split(";")[0].strip()
    if not matches_declared(media.mime_type, sniffed):
        found = sniffed or "of an unknown type"
        problems.append(
            (
                reasons.CONTENT_TYPE_MISMATCH,
                f"the bytes are {found}, not the declared {media.mime_type}",
            )
        )
    if stored_type != media.mime_type:
        problems.append(
            (
                reasons.CONTENT_TYPE_MISMATCH,
                f"the object was stored with Content-Type {stored_type[:100]}, not the declared "
                f"{media.mime_type}",
            )
        )
    if not problems:
        return None
    sentence = (
        "The stored bytes do not match the declaration: " + "; ".join(p[1] for p in problems) + "."
    )
    return reasons.reason(problems[0][0], sentence)


def _discard(media: MediaObject, version: str, settings: Settings) -> None:
    store = get_store()
    if settings.rejected_object_action == "quarantine":
        target = layout.quarantine_object_name(
            settings.quarantine_prefix, media.object_name, version
        )
        try:
            store.copy(media.bucket, media.object_name, version, target)
        except ObjectNotFound:
            return  # the version is gone already
    store.delete(media.bucket, media.object_name, version)


def hand_over(media: MediaObject) -> None:
    """Publish `media-verified` `{media_id, bucket, object_name, version}` for processing, with
    the `traceparent` of the media's own trace (so a re-drive by the reconciler joins it too).

    Raises:
        TransientError: the publish failed.
    """
    from common.core import context
    from common.events.publish import publish_json

    trace = {"traceparent": context.traceparent_of(media.trace_id)} if media.trace_id else {}
    publish_json(
        get_settings().media_verified_topic,
        {
            "media_id": media.id,
            "bucket": media.bucket,
            "object_name": media.object_name,
            "version": media.object_version,
        },
        media_id=media.id,
        **trace,  # processing joins the upload's trace, whoever hands it over
    )


def _handed_over(media: MediaObject) -> bool:
    """Whether verified media go to processing by `media-verified` (not ingested media: their
    ingest job analyses them itself, so their bucket's notification must not hand them over)."""
    from common.core.status import MediaKind

    return media.kind != MediaKind.INGEST.value


def verify_version(
    session: Session,
    media_id: str,
    version: str,
    *,
    event_id: str | None,
    hand_over_after: bool = True,
) -> Outcome:
    """Verify one stored version of a media's object (see the module docstring). Idempotent.

    Commits the caller's session at each step (the pinned version before the bytes are read,
    the outcome before it is handed over).

    Args:
        session: the caller's unit of work.
        media_id: the media row.
        version: the object version to verify.
        event_id: the message or request that asked, for the history.
        hand_over_after: publish `media-verified` once verified (False when the caller processes
            the media itself, as the job worker does).

    Returns:
        The outcome.

    Raises:
        NotFound: no such media.
        TransientError: storage, database, Pub/Sub or Firestore unavailable (retry).
    """
    from common.core import context

    settings = get_settings()
    store = get_store()
    media = get_media(session, media_id)
    session.commit()  # no transaction held while the store is asked
    context.adopt(media.trace_id)  # a bucket notification carries no trace: the upload's
    context.label(media_id=media.id, device_id=media.device_id)
    status = MediaStatus(media.status)
    if media.object_version is not None and version != media.object_version:
        live = store.stat(media.bucket, media.object_name)
        if live is None or live.version != version:
            log.info("media %s: version %s is not live; stale", media_id, version)
            return Outcome.STALE_VERSION
        if status not in BEFORE_VERIFICATION:
            return _reject_overwrite(session, media, version, status, event_id, settings)
    if status not in BEFORE_VERIFICATION:
        if status is MediaStatus.VERIFIED and hand_over_after and _handed_over(media):
            hand_over(media)  # the publish after an earlier commit may have been lost
            return Outcome.HANDED_OVER_AGAIN
        lifecycle.mirror(media)  # re-sync a mirror write that may have failed
        return Outcome.DUPLICATE
    with claimed(f"verify:{media_id}:{version}", settings.verify_claim_ttl_seconds) as claim:
        if claim is None:
            log.info("media %s: version %s is being verified elsewhere", media_id, version)
            return Outcome.IN_PROGRESS
        return _verify_claimed(session, media_id, version, event_id, hand_over_after, settings)


def _reject_overwrite(
    session: Session,
    media: MediaObject,
    version: str,
    status: MediaStatus,
    event_id: str | None,
    settings: Settings,
) -> Outcome:
    """Set aside a version written over verified content, once (the store's notification and a
    redelivery, or a complete call, may race: the claim lets one do it, the later ones see it
    stale)."""
    with claimed(f"verify:{media.id}:{version}", settings.verify_claim_ttl_seconds) as claim:
        if claim is None:
            return Outcome.IN_PROGRESS
        live = get_store().stat(media.bucket, media.object_name)
        if live is None or live.version != version:
            return Outcome.STALE_VERSION  # set aside already
        why = reasons.reason(
            reasons.OVERWRITE_REJECTED,
            f"A new version was written over content that was already {status.value}; "
            "it was set aside and the verified version stays.",
        )
        _discard(media, version, settings)
        lifecycle.record_event(
            session, media.id, reason=why, event_id=event_id, object_version=version
        )
        session.commit()
        log.warning("media %s: overwrite by version %s rejected", media.id, version)
        return Outcome.OVERWRITE_REJECTED


def _verify_claimed(
    session: Session,
    media_id: str,
    version: str,
    event_id: str | None,
    hand_over_after: bool,
    settings: Settings,
) -> Outcome:
    store = get_store()
    media = get_media(session, media_id)  # again: another holder may have finished first
    session.commit()
    if MediaStatus(media.status) not in BEFORE_VERIFICATION:
        return Outcome.DUPLICATE
    info = store.stat(media.bucket, media.object_name, version)
    if info is None:
        log.info("media %s: version %s is gone", media_id, version)
        return Outcome.VERSION_GONE
    pinned = {"object_version": version}
    if not lifecycle.transition(
        session,
        media_id,
        MediaStatus.UPLOADED,
        event_id=event_id,
        object_version=version,
        fields=pinned,
    ):
        lifecycle.update_fields(session, media_id, pinned, expected=MediaStatus.UPLOADED)
    session.commit()  # the version is pinned before its bytes are read
    digester = StreamingDigester(
        info.size_bytes,
        md5=settings.verify_md5_locally or not info.md5_base64,
        head_bytes=SNIFF_BYTES,
    )
    try:
        store.stream(media.bucket, media.object_name, version, digester)
    except ObjectNotFound:
        log.info("media %s: version %s vanished while it was read", media_id, version)
        return Outcome.VERSION_GONE
    digest = digester.result()
    sniffed = sniff_mime(bytes(digester.head))
    measured = {
        "object_version": version,
        "verified_sha256": digest.sha256_hex,
        "verified_md5": digest.md5_base64 or info.md5_base64,
        "actual_size_bytes": digest.size_bytes,
        "sampling_id": digest.sampling_id or None,
    }
    problem = compare(media, digest, info, sniffed)
    if problem is not None:
        _discard(media, version, settings)
        lifecycle.transition(
            session,
            media_id,
            MediaStatus.REJECTED,
            reason=problem,
            event_id=event_id,
            object_version=version,
            fields=measured,
        )
        _record_upload(session, media, "rejected", digest.size_bytes, problem.code)
        session.commit()
        log.warning("media %s rejected (%s): %s", media_id, problem.code, problem.message)
        return Outcome.REJECTED
    lifecycle.transition(
        session,
        media_id,
        MediaStatus.VERIFIED,
        event_id=event_id,
        object_version=version,
        expected=MediaStatus.UPLOADED,
        fields=measured,
    )
    _record_upload(session, media, "verified", digest.size_bytes, None)
    session.commit()  # verified before it is handed over
    if hand_over_after:
        hand_over(get_media(session, media_id))
    log.info("media %s verified (sampling id %s)", media_id, digest.sampling_id)
    return Outcome.VERIFIED


def _record_upload(
    session: Session, media: MediaObject, outcome: str, size_bytes: int, code: str | None
) -> None:
    """The audit event (in the caller's transaction) and the metric line of a verification's
    outcome."""
    from common.observe import audit
    from common.observe.events import log_event

    audit.record(
        "uploaded",
        actor=media.created_by,
        media_id=media.id,
        device_id=media.device_id,
        details={"outcome": outcome, "reason_code": code, "size_bytes": size_bytes},
        session=session,
    )
    fields: dict[str, Any] = {
        "media_id": media.id,
        "device_id": media.device_id,
        "size_bytes": size_bytes,
    }
    if code is None:
        log_event("upload.verified", **fields)
    else:
        log_event("upload.rejected", severity=logging.WARNING, reason_code=code, **fields)


def _in_scope(note: StorageNotification, settings: Settings) -> Outcome | None:
    if not note.is_finalize:
        return Outcome.IGNORED_EVENT_TYPE
    if (
        note.bucket != settings.uploads_bucket
        or note.object_name.startswith(settings.quarantine_prefix)
        or not layout.is_upload_object_name(note.object_name)
    ):
        return Outcome.IGNORED_OUTSIDE_LAYOUT
    age_limit = timedelta(seconds=settings.max_event_age_seconds)
    if note.event_time and datetime.now(UTC) - note.event_time > age_limit:
        return Outcome.TOO_OLD
    return None


def handle_notification(
    session: Session, note: StorageNotification, event_id: str | None
) -> Outcome:
    """Verify the object version a notification names, if it is an upload we expect."""
    from sqlalchemy import select

    from common.db.models import MediaObject

    settings = get_settings()
    skip = _in_scope(note, settings)
    if skip is not None:
        log.info("notification %s for %s: %s", event_id, note.object_name, skip.value)
        return skip
    media_id = session.execute(
        select(MediaObject.id).where(
            MediaObject.bucket == note.bucket, MediaObject.object_name == note.object_name
        )
    ).scalar_one_or_none()
    if media_id is None:
        log.warning(
            "notification %s names unknown object %s/%s", event_id, note.bucket, note.object_name
        )
        return Outcome.UNKNOWN_OBJECT
    version = note.version
    if version is None:  # an unversioned S3 bucket: the live version is the one written
        live = get_store().stat(note.bucket, note.object_name)
        if live is None:
            return Outcome.VERSION_GONE
        version = live.version
    return verify_version(session, media_id, version, event_id=event_id)


def handle_object_notification(message: PubSubMessage) -> Outcome:
    """finalize_upload: verify what an object notification (GCS or S3) names. Idempotent.

    Raises:
        BadRequest: the message is not an object notification (poison: acknowledged).
        TransientError: storage, database, Pub/Sub or Firestore unavailable (retry).
    """
    from common.db.engine import session_scope

    outcome = Outcome.NOTHING
    notes = storage_notifications(message)
    with session_scope() as session:
        for note in notes:
            outcome = handle_notification(session, note, message.message_id)
    return outcome
