"""Dedupe: the bytes of a device are stored once; every capture of them is its own media.

A new capture (a new message id, another camera of the device, an inline snapshot, an ingest)
whose declared bytes (SHA-256, size, MD5 and type) the device has stored and verified already,
for a media that is not deleted, is a new media record that shares that stored object: its
`shares_bytes_of` names the media that owns the object, its `bucket`, `object_name` and
`object_version` are the object's, and it starts at `verified` (the bytes were verified, and
nothing is uploaded again) with its own camera, time, labels and note, and goes to processing
like any upload. Nothing a device sends is dropped: the answer is 201 with `deduplicated: true`
and no upload. Bytes declared again while the first declaration still waits for them are not
shared (there is nothing stored to share yet): each declaration gets its own upload.
What a job derives (clips, snapshots) never dedupes.

The lookup is part of the declaration's statement (`declare_media`, migration 0011): the oldest
such media of the device (`ix_media_objects_device_sha256`), locked FOR SHARE, so that a delete
of it waits for the declaration to commit. The stored object is deleted with the last media that
names it (`bytes_in_use`, `common.media.delete`); the media that owns it keeps its tombstone row
while others still use the object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.core import reasons
from common.core.status import GONE_STATUSES, MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject
    from common.media.declare import MediaSpec

SHAREABLE_STATUSES = (MediaStatus.VERIFIED, MediaStatus.PROCESSING, MediaStatus.PROCESSED)
"""Statuses of a media whose stored bytes a new capture may share: verified and not given up."""


def dedupes(spec: MediaSpec) -> bool:
    """Originals dedupe (uploads, inline stills, ingests); what a job derives never does."""
    return spec.parent_id is None


def share_params(spec: MediaSpec) -> dict[str, Any]:
    """What `declare_media` needs to look for stored bytes to share ({} when `spec` never
    dedupes): the statuses a twin may have, the status a sharing media starts in, and the
    reason its first history row gives."""
    if not dedupes(spec):
        return {}
    why = reasons.reason(reasons.SHARES_BYTES)
    return {
        "share_statuses": [status.value for status in SHAREABLE_STATUSES],
        "shared_status": MediaStatus.VERIFIED.value,
        "shared_reason_code": why.code,
        "shared_reason": why.message,
    }


def bytes_owner(media: MediaObject) -> str:
    """The id of the media that owns the stored object `media` names (itself, or the media it
    shares bytes with)."""
    return media.shares_bytes_of or media.id


def bytes_in_use(session: Session, media: MediaObject) -> bool:
    """Whether a media other than `media` that is not being deleted names the same stored
    object (its owner, or another media sharing it), so the object must stay.

    A declaration that shares the object holds a FOR SHARE lock on a live media of the group
    until it commits, and a delete's `deleting` transition waits for that lock: so when this
    finds no live media, no declaration can add one.
    """
    from sqlalchemy import or_, select

    from common.db.models import MediaObject

    owner = bytes_owner(media)
    found = session.execute(
        select(MediaObject.id)
        .where(
            or_(MediaObject.id == owner, MediaObject.shares_bytes_of == owner),
            MediaObject.id != media.id,
            MediaObject.status.not_in([s.value for s in GONE_STATUSES]),
        )
        .limit(1)
    ).first()
    return found is not None
