"""Reading media: keyset pages, one media with its detections and derivatives, signed downloads.

Who may read what is decided before these are called (`common.api.access`).
Pages are newest capture first (`captured_at desc, id desc`); the cursor is opaque (base64url JSON
of the last item's sort key), never an OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from common.core.errors import Conflict, ValidationError
from common.core.settings import get_settings
from common.core.status import MediaStatus
from common.storage import get_store, layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Derivative, Detection, MediaObject, MotionSegment, Track
    from common.storage.base import SignedRequest

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


@dataclass(frozen=True)
class Page:
    """One page of media rows and the cursor of the next (None on the last page)."""

    items: list[MediaObject]
    next_cursor: str | None


def device_page(session: Session, device_id: str, *, limit: int, cursor: str | None) -> Page:
    """A device's media, newest capture first.

    Raises:
        ValidationError: bad limit (`invalid_limit`) or cursor (`invalid_cursor`).
    """
    from sqlalchemy import select, tuple_

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
    rows = list(session.execute(query).scalars())
    page = rows[:limit]
    more = len(rows) > limit and page
    return Page(page, encode_cursor(page[-1].captured_at, page[-1].id) if more else None)


@dataclass(frozen=True)
class SignedDerivative:
    """A rendition and a signed GET of it."""

    derivative: Derivative
    url: str


@dataclass(frozen=True)
class SignedTrack:
    """A track and a signed GET of its snapshot (None when it has none)."""

    track: Track
    snapshot_url: str | None


@dataclass(frozen=True)
class MediaDetail:
    """One media with its detections (time, then score order), tracks, motion segments and
    signed derivative and snapshot URLs."""

    media: MediaObject
    detections: list[Detection]
    derivatives: list[SignedDerivative]
    tracks: list[SignedTrack]
    motion_segments: list[MotionSegment]


def detail(session: Session, media: MediaObject) -> MediaDetail:
    """Detections and derivatives of a media, derivatives signed for `download_url_ttl_seconds`.

    Raises:
        StorageUnavailable: signing failed.
    """
    from sqlalchemy import select

    from common.db.models import Derivative, Detection, MotionSegment, Track

    ttl_seconds = get_settings().download_url_ttl_seconds
    detections = list(
        session.execute(
            select(Detection)
            .where(Detection.media_id == media.id)
            .order_by(Detection.time_ms.nulls_first(), Detection.score.desc())
        ).scalars()
    )
    derivatives = list(
        session.execute(
            select(Derivative).where(Derivative.media_id == media.id).order_by(Derivative.kind)
        ).scalars()
    )
    tracks = list(
        session.execute(
            select(Track).where(Track.media_id == media.id).order_by(Track.track_id)
        ).scalars()
    )
    segments = list(
        session.execute(
            select(MotionSegment)
            .where(MotionSegment.media_id == media.id)
            .order_by(MotionSegment.start_ms)
        ).scalars()
    )
    store = get_store()
    signed = [
        SignedDerivative(
            d, store.sign_download(d.bucket, d.object_name, ttl_seconds=ttl_seconds).url
        )
        for d in derivatives
    ]
    signed_tracks = [
        SignedTrack(
            t,
            store.sign_download(
                t.snapshot_bucket, t.snapshot_object_name, ttl_seconds=ttl_seconds
            ).url
            if t.snapshot_bucket and t.snapshot_object_name
            else None,
        )
        for t in tracks
    ]
    return MediaDetail(media, detections, signed, signed_tracks, segments)


def sign_media_download(media: MediaObject) -> SignedRequest:
    """A short-lived signed GET of the media's verified bytes (its pinned version).

    Raises:
        Conflict: the bytes were never verified (`not_downloadable`).
        StorageUnavailable: signing failed.
    """
    if media.status == MediaStatus.REJECTED.value or media.verified_sha256 is None:
        raise Conflict(f"media {media.id} is {media.status}", code="not_downloadable")
    return get_store().sign_download(
        media.bucket,
        media.object_name,
        ttl_seconds=get_settings().download_url_ttl_seconds,
        version=media.object_version,
        filename=media.original_filename or layout.filename_of(media.object_name),
    )
