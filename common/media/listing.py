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
class Playback:
    """How a browser plays a video: `state` (original, rendition, preparing, unavailable,
    unknown), why, and a signed GET of what to play (None when there is nothing to play yet)."""

    state: str
    reason: str | None
    url: str | None
    mime_type: str | None


@dataclass(frozen=True)
class MediaDetail:
    """One media with its detections (time, then score order), tracks, motion segments,
    signed derivative and snapshot URLs, and (videos) how a browser plays it."""

    media: MediaObject
    detections: list[Detection]
    derivatives: list[SignedDerivative]
    tracks: list[SignedTrack]
    motion_segments: list[MotionSegment]
    playback: Playback | None = None


_PREPARING = frozenset({MediaStatus.VERIFIED.value, MediaStatus.PROCESSING.value})


def playback(media: MediaObject, derivatives: list[SignedDerivative]) -> Playback | None:
    """How a browser plays `media` (None for a photo): its `playback` rendition when it has one,
    else the original when it plays as it is (`analysis.playback`, `common.media.renditions`),
    else why not. The original's URL is a signed GET of its verified version, shown inline.

    Raises:
        StorageUnavailable: signing failed.
    """
    if media.media_type != "video":
        return None
    made = next((s for s in derivatives if s.derivative.kind == "playback"), None)
    known = (media.analysis or {}).get("playback") or {}
    reason = known.get("reason")
    if made is not None:
        return Playback("rendition", reason, made.url, made.derivative.mime_type)
    if media.status in _PREPARING:
        return Playback("preparing", None, None, None)
    if media.verified_sha256 is None or media.status != MediaStatus.PROCESSED.value:
        return Playback("unavailable", f"the video is {media.status}", None, None)
    if known.get("state") == "unavailable":
        return Playback("unavailable", reason, None, None)
    state = "original" if known.get("as_is") else "unknown"
    url = _sign_download(media, get_settings().download_url_ttl_seconds, inline=True).url
    return Playback(state, reason, url, media.mime_type)


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
    return MediaDetail(media, detections, signed, signed_tracks, segments, playback(media, signed))


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


def _sign_download(media: MediaObject, ttl_seconds: int, *, inline: bool = False) -> SignedRequest:
    """A signed GET of the verified version; a download (`inline=False`) names the original file
    in its `response-content-disposition`, so a browser saves it under that name."""
    return signer().sign_download(
        media.bucket,
        media.object_name,
        ttl_seconds=ttl_seconds,
        version=media.object_version,
        filename=None
        if inline
        else media.original_filename or layout.filename_of(media.object_name),
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


def tile_urls(tiles: list[MediaTile]) -> dict[str, list[tuple[str, int, int, str]]]:
    """Short-lived signed GETs of the grid tiles of a page of media: media id -> (kind, width,
    height, URL) of each tile rendition it has."""
    ttl_seconds = get_settings().download_url_ttl_seconds
    found = [(tile["id"], entry) for tile in tiles for entry in tile.get("tiles") or []]
    signed = signer().sign_downloads(
        [(str(entry[1]), str(entry[2])) for _, entry in found], ttl_seconds=ttl_seconds
    )
    urls: dict[str, list[tuple[str, int, int, str]]] = {}
    for (media_id, entry), signed_get in zip(found, signed, strict=True):
        kind, _, _, width, height = entry
        urls.setdefault(media_id, []).append((str(kind), int(width), int(height), signed_get.url))
    return urls
