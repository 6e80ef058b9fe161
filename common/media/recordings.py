"""A camera's recordings on the wall clock: which processed videos cover a window of time.

A recording covers `[captured_at, captured_at + duration_ms)`. A window is covered when the
recordings overlapping it leave no gap longer than `GAP_TOLERANCE_MS` inside it (cameras that
record in segments leave a few frames between files). Only uploaded recordings count (not clips
or snapshots made from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.core.errors import ValidationError
from common.core.status import MediaKind, MediaStatus, MediaType
from common.core.times import iso_utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject

GAP_TOLERANCE_MS = 1000


@dataclass(frozen=True)
class WindowPart:
    """The part `[start_ms, start_ms + duration_ms)` of one recording that a window takes."""

    media: MediaObject
    start_ms: int
    duration_ms: int


def _end(media: MediaObject) -> datetime:
    return media.captured_at + timedelta(milliseconds=media.duration_ms or 0)


def _range(media: MediaObject) -> dict[str, Any]:
    return {
        "media_id": media.id,
        "start_at": iso_utc(media.captured_at),
        "end_at": iso_utc(_end(media)),
    }


def _recordings(session: Session, device_id: str, camera_id: str) -> Any:
    from sqlalchemy import select

    from common.db.models import MediaObject

    return select(MediaObject).where(
        MediaObject.device_id == device_id,
        MediaObject.camera_id == camera_id,
        MediaObject.kind == MediaKind.UPLOAD.value,
        MediaObject.media_type == MediaType.VIDEO.value,
        MediaObject.status == MediaStatus.PROCESSED.value,
        MediaObject.duration_ms.is_not(None),
    )


def _nearest(
    session: Session, device_id: str, camera_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    from common.db.models import MediaObject

    query = _recordings(session, device_id, camera_id)
    before = session.execute(
        query.where(MediaObject.captured_at < start)
        .order_by(MediaObject.captured_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    after = session.execute(
        query.where(MediaObject.captured_at >= end).order_by(MediaObject.captured_at).limit(1)
    ).scalar_one_or_none()
    return {
        "before": _range(before) if before is not None else None,
        "after": _range(after) if after is not None else None,
    }


def window_parts(
    session: Session, device_id: str, camera_id: str, start_at: datetime, duration_ms: int
) -> list[WindowPart]:
    """The parts of recordings that make the window `[start_at, start_at + duration_ms)`.

    Raises:
        ValidationError: no recording covers the window (`no_recording`, with the covered
            ranges nearest to it in `details`).
    """
    from common.db.models import MediaObject

    end_at = start_at + timedelta(milliseconds=duration_ms)
    # Recordings start before the window ends; those that also end after it starts overlap it.
    candidates = session.execute(
        _recordings(session, device_id, camera_id)
        .where(
            MediaObject.captured_at < end_at, MediaObject.captured_at > start_at - timedelta(days=1)
        )
        .order_by(MediaObject.captured_at)
    ).scalars()
    overlapping = [m for m in candidates if _end(m) > start_at]
    parts: list[WindowPart] = []
    cursor = start_at
    for media in overlapping:
        if media.captured_at - cursor > timedelta(milliseconds=GAP_TOLERANCE_MS):
            break  # a gap inside the window
        begin = max(cursor, media.captured_at)
        finish = min(end_at, _end(media))
        if finish <= begin:
            continue
        offset_ms = round((begin - media.captured_at).total_seconds() * 1000)
        length_ms = round((finish - begin).total_seconds() * 1000)
        parts.append(WindowPart(media, offset_ms, length_ms))
        cursor = finish
        if cursor >= end_at:
            return parts
    covered = [_range(p.media) for p in parts]
    raise ValidationError(
        "no recording covers that window of time",
        code="no_recording",
        details={"covered": covered, **_nearest(session, device_id, camera_id, start_at, end_at)},
    )
