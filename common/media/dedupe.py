"""Dedupe: the same bytes (SHA-256) of one device are stored once.

A declaration of an original (`parent_id` None: uploads, inline stills, ingests) first takes a
transaction-scoped advisory lock keyed by (device, SHA-256), then looks for a live original of
the device with those bytes (`ix_media_objects_device_sha256`); found, it is the answer. So a race
of identical declarations under different keys queues on the lock and ends with one media.
What a job derives (clips, snapshots) never dedupes.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from common.core.status import MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject
    from common.media.declare import MediaSpec


def dedupes(spec: MediaSpec) -> bool:
    """Originals dedupe (uploads, inline stills, ingests); what a job derives never does."""
    return spec.parent_id is None


def lock_content(session: Session, spec: MediaSpec) -> None:
    """Serialize, until commit, the declarations of one device's bytes (a transaction-scoped
    advisory lock keyed by the first 8 bytes of SHA-256(device_id, sha256))."""
    from sqlalchemy import text

    digest = hashlib.sha256(f"{spec.device_id}\x00{spec.sha256}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def twin_of(session: Session, spec: MediaSpec) -> MediaObject | None:
    """The device's oldest live original with the same bytes (`ix_media_objects_device_sha256`)."""
    from sqlalchemy import select

    from common.core.status import GONE_STATUSES
    from common.db.models import MediaObject

    dead = {MediaStatus.REJECTED.value, MediaStatus.FAILED.value} | {s.value for s in GONE_STATUSES}
    return (
        session.execute(
            select(MediaObject)
            .where(
                MediaObject.device_id == spec.device_id,
                MediaObject.sha256 == spec.sha256,
                MediaObject.parent_id.is_(None),
                MediaObject.status.not_in(dead),
            )
            .order_by(MediaObject.created_at, MediaObject.id)
            .limit(1)
        )
        .scalars()
        .first()
    )
