"""Reading media: per-device listing (keyset pagination), detail, signed downloads.

Authorization: a device token sees only its own device's media; a user token sees the devices the
`device_owners` table gives it. Anything else is answered as not found, so ids of other devices'
media are not confirmed to exist.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.auth import Principal
from common.errors import NotFound, ValidationError
from common.http import iso_utc
from common.settings import get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def encode_cursor(captured_at: datetime, media_id: str) -> str:
    """Opaque cursor naming the last item of a page (base64url JSON of its sort key)."""
    raw = json.dumps({"t": captured_at.isoformat(), "i": media_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of `encode_cursor`.

    Raises:
        ValidationError: the cursor was not made by `encode_cursor` (code `invalid_cursor`).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        captured_at = datetime.fromisoformat(data["t"])
        media_id = data["i"]
        if captured_at.tzinfo is None or not isinstance(media_id, str):
            raise ValueError("bad cursor")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", code="invalid_cursor") from exc
    return captured_at, media_id


def _can_see(session: Session, principal: Principal, device_id: str) -> bool:
    from sqlalchemy import select

    from common.db.models import DeviceOwner

    if principal.kind == "device":
        return principal.subject == device_id
    owner = session.execute(
        select(DeviceOwner.device_id).where(
            DeviceOwner.user_id == principal.subject, DeviceOwner.device_id == device_id
        )
    ).first()
    return owner is not None


def summary(media: MediaObject) -> dict[str, Any]:
    """The list view of one media object."""
    return {
        "id": media.id,
        "device_id": media.device_id,
        "camera_id": media.camera_id,
        "message_id": media.message_id,
        "captured_at": iso_utc(media.captured_at),
        "reason": media.reason,
        "media_type": media.media_type,
        "mime_type": media.mime_type,
        "kind": media.kind,
        "parent_id": media.parent_id,
        "size_bytes": media.size_bytes,
        "status": media.status,
        "status_reason": media.status_reason,
        "created_at": iso_utc(media.created_at),
        "updated_at": iso_utc(media.updated_at),
    }


def list_device_media(
    principal: Principal, device_id: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Newest capture first (captured_at desc, id desc), one page.

    Args:
        principal: the caller.
        device_id: whose media.
        limit: page size, 1..100.
        cursor: `next_cursor` of the previous page, or None for the first.

    Returns:
        `{"items": [summary...], "next_cursor": str | None}`.

    Raises:
        NotFound: the caller may not see this device.
        ValidationError: bad limit or cursor.
    """
    from sqlalchemy import select, tuple_

    from common.db.engine import session_scope
    from common.db.models import MediaObject

    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be 1..{MAX_PAGE_SIZE}", code="invalid_limit")
    query = select(MediaObject).where(MediaObject.device_id == device_id)
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        query = query.where(
            tuple_(MediaObject.captured_at, MediaObject.id) < tuple_(after_time, after_id)
        )
    query = query.order_by(MediaObject.captured_at.desc(), MediaObject.id.desc()).limit(limit + 1)
    with session_scope() as session:
        if not _can_see(session, principal, device_id):
            raise NotFound(f"device {device_id} not found")
        rows = list(session.execute(query).scalars())
    page = rows[:limit]
    next_cursor = (
        encode_cursor(page[-1].captured_at, page[-1].id) if len(rows) > limit and page else None
    )
    return {"items": [summary(m) for m in page], "next_cursor": next_cursor}


def load_visible(session: Session, principal: Principal, media_id: str) -> MediaObject:
    """Load a media row the caller may see; the one authorization rule for every media route.

    Raises:
        NotFound: missing, or another device's media (never confirmed to exist).
    """
    from common.db.models import MediaObject

    media = session.get(MediaObject, media_id)
    if media is None or not _can_see(session, principal, media.device_id):
        raise NotFound(f"media {media_id} not found")
    return media


def get_media(principal: Principal, media_id: str) -> dict[str, Any]:
    """Full metadata: summary, hashes, storage pointer, detections, signed derivative URLs.

    Raises:
        NotFound: missing or not visible to the caller.
    """
    from sqlalchemy import select

    from common.db.engine import session_scope
    from common.db.models import Derivative, Detection
    from common.storage import sign_url

    ttl_seconds = get_settings().download_url_ttl_seconds
    with session_scope() as session:
        media = load_visible(session, principal, media_id)
        detections = list(
            session.execute(
                select(Detection)
                .where(Detection.media_id == media_id)
                .order_by(Detection.time_ms.nulls_first(), Detection.score.desc())
            ).scalars()
        )
        derivatives = list(
            session.execute(
                select(Derivative).where(Derivative.media_id == media_id).order_by(Derivative.kind)
            ).scalars()
        )
    body = summary(media)
    body.update(
        {
            "declared": {"size_bytes": media.size_bytes, "sha256": media.sha256, "md5": media.md5},
            "verified": {
                "size_bytes": media.actual_size_bytes,
                "sha256": media.verified_sha256,
                "md5": media.verified_md5,
                "sampling_id": media.sampling_id,
                "sha256_matches": media.verified_sha256 == media.sha256
                if media.verified_sha256
                else None,
            },
            "object": {
                "bucket": media.bucket,
                "name": media.object_name,
                "generation": media.generation,
                "uri": media.gcs_uri,
            },
            "properties": {
                "width_px": media.width_px,
                "height_px": media.height_px,
                "duration_ms": media.duration_ms,
                "video_codec": media.video_codec,
                "frame_rate": media.frame_rate,
            },
            "detections": [
                {
                    "label": d.label,
                    "score": round(d.score, 4),
                    "box": {"x": d.x, "y": d.y, "w": d.w, "h": d.h},
                    "time_ms": d.time_ms,
                    "model": d.model,
                }
                for d in detections
            ],
            "derivatives": [
                {
                    "kind": d.kind,
                    "mime_type": d.mime_type,
                    "width_px": d.width_px,
                    "height_px": d.height_px,
                    "size_bytes": d.size_bytes,
                    "url": sign_url(
                        d.bucket, d.object_name, method="GET", ttl_seconds=ttl_seconds
                    ).url,
                }
                for d in derivatives
            ],
        }
    )
    return body


def download_url(principal: Principal, media_id: str) -> dict[str, Any]:
    """A short-lived signed GET of the media's verified bytes (its pinned generation).

    Returns:
        `{"url", "method": "GET", "expires_at"}`.

    Raises:
        NotFound: missing or not visible to the caller.
        Conflict: the bytes are not verified (pending, rejected or failed before verification).
    """
    from common.db.engine import session_scope
    from common.errors import Conflict
    from common.storage import sign_url

    with session_scope() as session:
        media = load_visible(session, principal, media_id)
    if media.status == MediaStatus.REJECTED.value or media.verified_sha256 is None:
        raise Conflict(f"media {media_id} is {media.status}", code="not_downloadable")
    filename = media.object_name.rsplit("/", 1)[-1]
    signed = sign_url(
        media.bucket,
        media.object_name,
        method="GET",
        ttl_seconds=get_settings().download_url_ttl_seconds,
        generation=media.generation,
        response_disposition=f'attachment; filename="{filename}"',
    )
    return {"method": "GET", "url": signed.url, "expires_at": iso_utc(signed.expires_at)}
