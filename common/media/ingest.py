"""The one way bytes become media: declare, store (or adopt), verify, hand over.

    declare (common.media.declare)  ->  pending_upload, mirrored
    store                           ->  the device PUTs to a signed URL, or the server writes the
                                        bytes it holds with `ingest_bytes` (create-if-absent)
    verify (common.media.verify)    ->  uploaded -> verified | rejected
    hand over                       ->  media-verified published, or the caller processes it

Signed-PUT uploads reach verification through the bucket's notification; inline snapshots and job
results (and any other bytes the server holds) go through `ingest_bytes`, which verifies at once
(the notification that may follow is then a no-op). Every status change on the way is a
`common.media.lifecycle.transition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.core.settings import get_settings
from common.core.status import MediaStatus
from common.db.repo import get_media
from common.media.declare import MediaSpec, declare
from common.media.verify import Outcome, verify_version
from common.storage import get_store
from common.storage.base import ObjectExists, SignedRequest, UploadContract

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject


@dataclass(frozen=True)
class Ingested:
    """What `ingest_bytes` did.

    Attributes:
        media: the row as it is now.
        created: this call declared it (False: a replay of an earlier declaration, or a dedupe).
        outcome: the verification outcome (None when the row was already past verification).
        deduplicated: the device already had these bytes; `media` is that media.
    """

    media: MediaObject
    created: bool
    outcome: Outcome | None
    deduplicated: bool = False


def upload_contract(media: MediaObject) -> UploadContract:
    """What a signed upload of the media's bytes must carry (from its declaration)."""
    return UploadContract(
        size_bytes=media.size_bytes,
        content_type=media.mime_type,
        md5_base64=media.md5,
        sha256_hex=media.sha256,
    )


def sign_upload(media: MediaObject) -> SignedRequest:
    """A signed single-request upload of the declared bytes, valid `upload_url_ttl_seconds`.

    Raises:
        StorageUnavailable: signing failed.
    """
    return get_store().sign_upload(
        media.bucket,
        media.object_name,
        upload_contract(media),
        ttl_seconds=get_settings().upload_url_ttl_seconds,
    )


def ingest_bytes(
    session: Session,
    spec: MediaSpec,
    data: bytes | Path,
    *,
    event_id: str | None = None,
    hand_over_after: bool = True,
    metadata: dict[str, str] | None = None,
) -> Ingested:
    """Declare media for bytes the server holds, store them if absent, and verify them.

    Safe to repeat: the declaration is idempotent, the object is created only if absent (an
    existing one is an earlier attempt's and is verified as it is), verification is once per
    version.

    Args:
        session: the caller's unit of work (verification commits it).
        spec: the declaration (its size and hashes must be those of `data`).
        data: the bytes, in memory or in a local file.
        event_id: the request or message that caused it.
        hand_over_after: publish `media-verified` once verified (False: the caller processes).
        metadata: custom metadata for the stored object.

    Returns:
        What happened.

    Raises:
        UnsupportedMediaType, PayloadTooLarge, ValidationError, Conflict: see `declare`.
        TransientError: storage, database, Pub/Sub or Firestore unavailable.
    """
    declared = declare(spec, event_id=event_id)
    media, created, deduplicated = declared.media, declared.created, declared.deduplicated
    if MediaStatus(media.status) not in (MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADED):
        return Ingested(media, created, None, deduplicated)
    store = get_store()
    try:
        if isinstance(data, Path):
            info = store.write_file(
                media.bucket,
                media.object_name,
                data,
                media.mime_type,
                if_absent=True,
                metadata=metadata,
            )
        else:
            info = store.write(
                media.bucket,
                media.object_name,
                data,
                media.mime_type,
                if_absent=True,
                metadata=metadata,
            )
        version = info.version
    except ObjectExists:
        live = store.stat(media.bucket, media.object_name)
        if live is None:
            from common.core.errors import TransientError

            raise TransientError(f"{media.object_name} exists and vanished") from None
        version = live.version
    outcome = verify_version(
        session, media.id, version, event_id=event_id, hand_over_after=hand_over_after
    )
    return Ingested(get_media(session, media.id), created, outcome, deduplicated)
