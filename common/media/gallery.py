"""The gallery: one listing across the devices a caller sees, filtered, newest capture first.

Filters: device, camera, kind, media type, status, label, capture-time window, parent. Deleted
media (`deleting`, `deleted`) are left out unless a status filter asks for them. Pages are keyset
pages on `(captured_at, id)` descending; the cursor carries the last item's sort key and a hash of
the filters, so a cursor reused with other filters is refused (422 `cursor_mismatch`) instead of
silently paging another listing. Every combination is served by an index range scan on
`(device_id, captured_at, id)` or `(device_id, camera_id, captured_at, id)`, by the partial
`(parent_id, captured_at, id)` index, or by the GIN index on `labels` (`bench/explain_gallery.py`
prints the plans on a million rows).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from common.core.errors import ValidationError
from common.core.status import GONE_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject


@dataclass(frozen=True)
class Filters:
    """What a gallery page is filtered by (None: any)."""

    device_id: str | None = None
    camera_id: str | None = None
    kind: str | None = None
    media_type: str | None = None
    status: str | None = None
    label: str | None = None
    captured_after: datetime | None = None
    captured_before: datetime | None = None
    parent_id: str | None = None

    def fingerprint(self) -> str:
        """16 hex characters naming these filters (times in UTC ISO form)."""
        values = {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()
        }
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(captured_at: datetime, media_id: str, filters: Filters) -> str:
    """Opaque cursor: the last item's sort key and the filters' fingerprint, base64url JSON."""
    raw = json.dumps(
        {"t": captured_at.isoformat(), "i": media_id, "f": filters.fingerprint()},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: Filters) -> tuple[datetime, str]:
    """Inverse of `encode_cursor`, for the same filters.

    Raises:
        ValidationError: not a cursor of this API (`invalid_cursor`), or one made for other filters
            (`cursor_mismatch`).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        captured_at = datetime.fromisoformat(data["t"])
        media_id, fingerprint = data["i"], data["f"]
        if captured_at.tzinfo is None or not isinstance(media_id, str):
            raise ValueError("bad cursor")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", code="invalid_cursor") from exc
    if fingerprint != filters.fingerprint():
        raise ValidationError(
            "this cursor belongs to a listing with other filters", code="cursor_mismatch"
        )
    return captured_at, media_id


def _filtered(query: Select[MediaObject], filters: Filters) -> Select[MediaObject]:
    from sqlalchemy import String, cast, literal
    from sqlalchemy.dialects.postgresql import JSONB

    from common.db.models import MediaObject

    if filters.device_id is not None:
        query = query.where(MediaObject.device_id == filters.device_id)
    if filters.camera_id is not None:
        query = query.where(MediaObject.camera_id == filters.camera_id)
    if filters.kind is not None:
        query = query.where(MediaObject.kind == filters.kind)
    if filters.media_type is not None:
        query = query.where(MediaObject.media_type == filters.media_type)
    if filters.status is not None:
        query = query.where(MediaObject.status == filters.status)
    else:
        query = query.where(MediaObject.status.not_in([s.value for s in GONE_STATUSES]))
    if filters.label is not None:
        # a constant JSONB value, so the GIN index on labels applies
        wanted = cast(literal(json.dumps([filters.label]), String()), JSONB)
        query = query.where(MediaObject.labels.contains(wanted))
    if filters.captured_after is not None:
        query = query.where(MediaObject.captured_at >= filters.captured_after)
    if filters.captured_before is not None:
        query = query.where(MediaObject.captured_at < filters.captured_before)
    if filters.parent_id is not None:
        query = query.where(MediaObject.parent_id == filters.parent_id)
    return query


@dataclass(frozen=True)
class GalleryPage:
    """One page and the cursor of the next (None on the last page)."""

    items: list[MediaObject]
    next_cursor: str | None


def gallery_page(
    session: Session,
    *,
    device_ids: list[str] | None,
    user_id: str | None,
    filters: Filters,
    limit: int,
    cursor: str | None,
) -> GalleryPage:
    """One page of the media of the given devices (or of every device a user owns).

    Args:
        session: the unit of work.
        device_ids: exactly these devices (a device token: its own; an admin: None and no user).
        user_id: the user whose owned devices are listed (when `device_ids` is None).
        filters: see `Filters`.
        limit: page size.
        cursor: `next_cursor` of the previous page with the same filters.

    Raises:
        ValidationError: a bad or foreign cursor.
    """
    from sqlalchemy import select, tuple_

    from common.db.models import DeviceOwner, MediaObject

    query = select(MediaObject)
    if device_ids is not None:
        query = query.where(MediaObject.device_id.in_(device_ids))
    elif user_id is not None:
        owned = select(DeviceOwner.device_id).where(DeviceOwner.user_id == user_id)
        query = query.where(MediaObject.device_id.in_(owned))
    query = _filtered(query, filters)
    if cursor:
        after_time, after_id = decode_cursor(cursor, filters)
        query = query.where(
            tuple_(MediaObject.captured_at, MediaObject.id) < tuple_(after_time, after_id)
        )
    query = query.order_by(MediaObject.captured_at.desc(), MediaObject.id.desc()).limit(limit + 1)
    rows = list(session.execute(query).scalars())
    page = rows[:limit]
    more = len(rows) > limit and page
    return GalleryPage(
        page, encode_cursor(page[-1].captured_at, page[-1].id, filters) if more else None
    )


def thumbnails(session: Session, media_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(bucket, object name) of each media's thumbnail, for those that have one."""
    from sqlalchemy import select

    from common.db.models import Derivative

    if not media_ids:
        return {}
    rows = session.execute(
        select(Derivative.media_id, Derivative.bucket, Derivative.object_name).where(
            Derivative.media_id.in_(media_ids), Derivative.kind == "thumbnail"
        )
    )
    return {media_id: (bucket, name) for media_id, bucket, name in rows}
