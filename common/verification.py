"""finalize_upload's logic: verify a stored object against what its device declared.

For each OBJECT_FINALIZE notification on the uploads bucket: find the media row by (bucket, object
name), claim it (`pending_upload -> uploaded`, pinning the generation), stream that exact generation
once through SHA-256 / MD5 / size / the xxHash64 sampling id, then move it to `verified` (and publish
`media-verified`) or to `rejected` (and quarantine or delete the object).

Redelivery, duplicates and reordering are safe: a generation older than the pinned one is stale and
ignored; the same generation after the row moved on is a no-op; a newer generation after the content
was verified (an overwrite) is rejected, recorded in the history, and its bytes quarantined, so
verified content is never silently replaced.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from common.errors import NotFound
from common.events import PubSubMessage, StorageNotification, storage_notification
from common.hashing import ContentDigest, StreamingDigester
from common.lifecycle import record_event, transition
from common.settings import Settings, get_settings
from common.status import MediaStatus

log = logging.getLogger(__name__)

_UPLOAD_LAYOUT = re.compile(r"^[^/]+/[^/]+/\d{4}-\d{2}-\d{2}/[^/]+\.[a-z0-9]+$")


class Outcome(StrEnum):
    """What handling one notification amounted to (logged, and returned for tests)."""

    VERIFIED = "verified"
    REJECTED = "rejected"
    OVERWRITE_REJECTED = "overwrite_rejected"
    DUPLICATE = "duplicate"
    STALE_GENERATION = "stale_generation"
    GENERATION_GONE = "generation_gone"
    IGNORED_EVENT_TYPE = "ignored_event_type"
    IGNORED_OUTSIDE_LAYOUT = "ignored_outside_layout"
    UNKNOWN_OBJECT = "unknown_object"
    TOO_OLD = "too_old"


def compare(
    declared_size_bytes: int,
    declared_sha256: str,
    declared_md5: str,
    digest: ContentDigest,
    stored_md5: str | None,
) -> list[str]:
    """Return human-readable mismatches between declared and measured values (empty: all match).

    `stored_md5` is the MD5 to check: the digest's own when it computed one, else Cloud Storage's
    `md5Hash` of the object.
    """
    problems = []
    if digest.size_bytes != declared_size_bytes:
        problems.append(f"size_bytes {digest.size_bytes} != declared {declared_size_bytes}")
    if digest.sha256_hex != declared_sha256:
        problems.append(f"sha256 {digest.sha256_hex} != declared {declared_sha256}")
    if stored_md5 != declared_md5:
        problems.append(f"md5 {stored_md5} != declared {declared_md5}")
    return problems


def _in_scope(note: StorageNotification, settings: Settings) -> Outcome | None:
    if not note.is_finalize:
        return Outcome.IGNORED_EVENT_TYPE
    if (
        note.bucket != settings.uploads_bucket
        or note.object_name.startswith(settings.quarantine_prefix)
        or not _UPLOAD_LAYOUT.match(note.object_name)
    ):
        return Outcome.IGNORED_OUTSIDE_LAYOUT
    age_limit = timedelta(seconds=settings.max_event_age_seconds)
    if note.event_time and datetime.now(UTC) - note.event_time > age_limit:
        return Outcome.TOO_OLD
    return None


def _discard(note: StorageNotification, settings: Settings) -> None:
    from common.storage import delete_generation, move_to_quarantine

    if settings.rejected_object_action == "quarantine":
        move_to_quarantine(
            note.bucket, note.object_name, note.generation, settings.quarantine_prefix
        )
    else:
        delete_generation(note.bucket, note.object_name, note.generation)


def handle_object_notification(message: PubSubMessage) -> Outcome:
    """Verify the object a finalize notification names. Safe to call any number of times.

    Returns:
        The outcome (also logged).

    Raises:
        BadRequest: the message is not a storage notification (poison: ack it).
        TransientError: storage, database, Pub/Sub or Firestore unavailable (retry).
    """
    from sqlalchemy import select

    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.pubsub import publish_json
    from common.storage import stream_object

    settings = get_settings()
    note = storage_notification(message)
    event_id = message.message_id
    skip = _in_scope(note, settings)
    if skip is not None:
        log.info("notification %s for %s: %s", event_id, note.object_name, skip.value)
        return skip
    with session_scope() as session:
        media = session.execute(
            select(MediaObject).where(
                MediaObject.bucket == note.bucket, MediaObject.object_name == note.object_name
            )
        ).scalar_one_or_none()
    if media is None:
        log.warning(
            "notification %s names unknown object gs://%s/%s",
            event_id,
            note.bucket,
            note.object_name,
        )
        return Outcome.UNKNOWN_OBJECT
    status = MediaStatus(media.status)
    pending = status in (MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADED)
    if media.generation is not None and note.generation < media.generation:
        log.info(
            "notification %s: generation %s older than %s",
            event_id,
            note.generation,
            media.generation,
        )
        return Outcome.STALE_GENERATION
    if media.generation is not None and note.generation > media.generation and not pending:
        reason = (
            f"overwrite by generation {note.generation} rejected; "
            f"generation {media.generation} stays the media's content"
        )
        _discard(note, settings)
        record_event(
            media.id, status=status, reason=reason, event_id=event_id, generation=note.generation
        )
        log.warning("media %s: %s", media.id, reason)
        return Outcome.OVERWRITE_REJECTED
    if not pending:
        transition(media.id, status, event_id=event_id)  # no-op that re-syncs the mirror
        return Outcome.DUPLICATE
    transition(
        media.id,
        MediaStatus.UPLOADED,
        event_id=event_id,
        generation=note.generation,
        fields={"generation": note.generation},
    )
    digester = StreamingDigester(
        note.size_bytes if note.size_bytes is not None else media.size_bytes,
        md5=settings.verify_md5_locally or not note.md5_base64,
    )
    try:
        stream_object(note.bucket, note.object_name, note.generation, digester)
    except NotFound:
        log.info("media %s: generation %s is gone", media.id, note.generation)
        return Outcome.GENERATION_GONE
    digest = digester.result()
    stored_md5 = digest.md5_base64 or note.md5_base64
    problems = compare(media.size_bytes, media.sha256, media.md5, digest, stored_md5)
    if note.content_type and note.content_type.lower() != media.mime_type:
        problems.append(f"content type {note.content_type} != declared {media.mime_type}")
    measured = {
        "generation": note.generation,
        "verified_sha256": digest.sha256_hex,
        "verified_md5": stored_md5,
        "actual_size_bytes": digest.size_bytes,
        "sampling_id": digest.sampling_id or None,
    }
    if problems:
        _discard(note, settings)
        reason = "; ".join(problems)
        transition(
            media.id,
            MediaStatus.REJECTED,
            reason=reason,
            event_id=event_id,
            generation=note.generation,
            fields=measured,
        )
        log.warning("media %s rejected: %s", media.id, reason)
        return Outcome.REJECTED
    publish_json(
        settings.media_verified_topic,
        {
            "media_id": media.id,
            "bucket": note.bucket,
            "object_name": note.object_name,
            "generation": note.generation,
        },
        media_id=media.id,
    )
    transition(
        media.id,
        MediaStatus.VERIFIED,
        event_id=event_id,
        generation=note.generation,
        expected=MediaStatus.UPLOADED,
        fields=measured,
    )
    log.info("media %s verified (sampling id %s)", media.id, digest.sampling_id)
    return Outcome.VERIFIED
