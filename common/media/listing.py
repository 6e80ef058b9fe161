"""Reading media: one media with its detections, tracks and derivatives; signed downloads.

Who may read what is decided before these are called (`common.api.access`); pages of media are
`common.media.gallery`. Signed GETs come from one cache (`common.storage.signing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from common.core.errors import Conflict
from common.core.settings import get_settings
from common.core.status import MediaStatus
from common.storage import get_store, layout
from common.storage.signing import SigningCache

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Derivative, Detection, MediaObject, MotionSegment, Track
    from common.media.gallery import MediaTile
    from common.storage.base import SignedRequest


@cache
def signer() -> SigningCache:
    """The process-wide cache of signed GETs (`common.storage.signing`)."""
    return SigningCache(get_store())


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
    store = signer()
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


def sign_media_download(
    media: MediaObject, *, requester: str | None = None, session: Session | None = None
) -> SignedRequest:
    """A short-lived signed GET of the media's verified bytes (its pinned version).

    Args:
        media: the media.
        requester: who asks; given, the URL's issue is audited (`download_url_issued`).
        session: the caller's unit of work the audit event is written in.

    Raises:
        Conflict: the bytes were never verified (`not_downloadable`).
        StorageUnavailable: signing failed.
    """
    if media.status == MediaStatus.REJECTED.value or media.verified_sha256 is None:
        raise Conflict(f"media {media.id} is {media.status}", code="not_downloadable")
    ttl_seconds = get_settings().download_url_ttl_seconds
    signed = _sign_download(media, ttl_seconds)
    if requester is not None:
        from common.observe import audit

        audit.record(
            "download_url_issued",
            actor=requester,
            media_id=media.id,
            device_id=media.device_id,
            details={"ttl_seconds": ttl_seconds},
            session=session,
        )
    return signed


def _sign_download(media: MediaObject, ttl_seconds: int) -> SignedRequest:
    return signer().sign_download(
        media.bucket,
        media.object_name,
        ttl_seconds=ttl_seconds,
        version=media.object_version,
        filename=media.original_filename or layout.filename_of(media.object_name),
    )


def thumbnail_urls(tiles: list[MediaTile]) -> dict[str, str]:
    """Short-lived signed GETs of the thumbnails of a page of media (those that have one; the
    page's query brought their locations)."""
    ttl_seconds = get_settings().download_url_ttl_seconds
    with_thumbnail = [t for t in tiles if t["thumbnail_bucket"] and t["thumbnail_object_name"]]
    objects = [
        (t["thumbnail_bucket"] or "", t["thumbnail_object_name"] or "") for t in with_thumbnail
    ]
    signed = signer().sign_downloads(objects, ttl_seconds=ttl_seconds)
    return {
        tile["id"]: signed_get.url for tile, signed_get in zip(with_thumbnail, signed, strict=True)
    }
