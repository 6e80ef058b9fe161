"""Response bodies built from rows: the media, gallery, detail and job views of
`common.api.schemas`, and where a media's bytes live for the caller who may know it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.api.schemas import (
    AnalysisBody,
    Box,
    Declared,
    DerivativeBody,
    DetectionBody,
    JobBody,
    JobLinks,
    MediaDetailBody,
    MediaPage,
    MediaSummary,
    MotionSegmentBody,
    PlaybackBody,
    Properties,
    SignedRequestBody,
    StorageObject,
    TileBody,
    TrackBody,
    Verified,
)
from common.media.gallery import SUMMARY_COLUMNS

if TYPE_CHECKING:
    from common.api.auth import Principal
    from common.db.models import Job, MediaObject
    from common.media.gallery import MediaTile
    from common.media.listing import MediaDetail
    from common.storage.base import SignedRequest


def storage_object(media: MediaObject, principal: Principal) -> StorageObject | None:
    """Where a media's bytes live, for admins or when `expose_storage_locations` is on; else None."""
    from common.core.settings import get_settings

    if not (principal.admin or get_settings().expose_storage_locations):
        return None
    return StorageObject(
        bucket=media.bucket,
        name=media.object_name,
        version=media.object_version,
        uri=media.storage_uri,
    )


def signed(request: SignedRequest) -> SignedRequestBody:
    """The body of a signed request."""
    return SignedRequestBody(
        method=request.method,
        url=request.url,
        headers=request.headers,
        expires_at=request.expires_at,
    )


def etag(media: MediaObject) -> str:
    """The media's ETag (RFC 9110 section 8.8.3): its id and edit revision, quoted."""
    return f'"{media.id}.{media.revision}"'


def _summary_fields(fields: dict[str, Any], thumbnail_url: str | None) -> dict[str, Any]:
    """The list view from `SUMMARY_COLUMNS` by name and `analysis` (a row's or a tile's)."""
    summary = {name: fields[name] for name in SUMMARY_COLUMNS}
    summary["thumbnail_url"] = thumbnail_url
    summary["pinned"] = bool(summary["pinned"])
    summary["labels"] = list(summary["labels"] or [])
    summary["counts"] = dict((fields["analysis"] or {}).get("counts") or {})
    return summary


def _row_fields(media: MediaObject) -> dict[str, Any]:
    return {name: getattr(media, name) for name in (*SUMMARY_COLUMNS, "analysis")}


def summary(media: MediaObject, thumbnail_url: str | None = None) -> MediaSummary:
    """The list view (a gallery tile) of one media row."""
    return MediaSummary(**_summary_fields(_row_fields(media), thumbnail_url))


def media_page(
    tiles: list[MediaTile],
    thumbnail_urls: dict[str, str],
    next_cursor: str | None,
    tile_urls: dict[str, list[tuple[str, int, int, str]]] | None = None,
) -> MediaPage:
    """A page of gallery tiles (`common.media.gallery`) with their signed thumbnail and tile
    URLs: the same body `summary` gives for each row, validated in one call for the page."""
    items = []
    for tile in tiles:
        fields = _summary_fields(tile, thumbnail_urls.get(tile["id"]))
        fields["tiles"] = tiles_of((tile_urls or {}).get(tile["id"], []))
        items.append(fields)
    return MediaPage.model_validate({"items": items, "next_cursor": next_cursor})


_TILES = {
    "tile": ("image/jpeg", 1),
    "tile_2x": ("image/jpeg", 2),
    "tile_webp": ("image/webp", 1),
    "tile_webp_2x": ("image/webp", 2),
}


def tiles_of(found: list[tuple[str, int, int, str]]) -> list[TileBody]:
    """A tile's `srcset` renditions from (kind, width, height, signed URL) of its derivatives;
    empty unless all four exist (media processed before them have only `thumbnail_url`)."""
    kinds = {kind for kind, *_ in found}
    if not set(_TILES) <= kinds:
        return []
    return [
        TileBody(
            url=url,
            mime_type=_TILES[kind][0],
            width_px=width,
            height_px=height,
            density=_TILES[kind][1],
        )
        for kind, width, height, url in found
        if kind in _TILES
    ]


def detail(found: MediaDetail, principal: Principal) -> MediaDetailBody:
    """The detail view of one media, with detections and signed derivative URLs."""
    media = found.media
    thumbnail = next((s.url for s in found.derivatives if s.derivative.kind == "thumbnail"), None)
    return MediaDetailBody(
        **_summary_fields(_row_fields(media), thumbnail),
        declared=Declared(size_bytes=media.size_bytes, sha256=media.sha256, md5=media.md5),
        verified=Verified(
            size_bytes=media.actual_size_bytes,
            sha256=media.verified_sha256,
            md5=media.verified_md5,
            sampling_id=media.sampling_id,
            sha256_matches=media.verified_sha256 == media.sha256 if media.verified_sha256 else None,
        ),
        object=storage_object(media, principal),
        properties=Properties(
            width_px=media.width_px,
            height_px=media.height_px,
            duration_ms=media.duration_ms,
            video_codec=media.video_codec,
            frame_rate=media.frame_rate,
            decode_warnings=list(media.decode_warnings or []),
        ),
        analysis=_analysis(media.analysis),
        tracks=[
            TrackBody(
                track_id=s.track.track_id,
                label=s.track.label,
                first_ms=s.track.first_ms,
                last_ms=s.track.last_ms,
                best_score=round(s.track.best_score, 4),
                median_score=round(s.track.median_score, 4),
                best_time_ms=s.track.best_time_ms,
                box=Box(x=s.track.x, y=s.track.y, w=s.track.w, h=s.track.h),
                boxes=s.track.boxes,
                model=s.track.model,
                snapshot_url=s.snapshot_url,
                stationary=s.track.stationary,
            )
            for s in found.tracks
        ],
        motion_segments=[
            MotionSegmentBody(
                start_ms=m.start_ms,
                end_ms=m.end_ms,
                area_px=m.area_px,
                area_fraction=round(m.area_fraction, 4),
            )
            for m in found.motion_segments
        ],
        detections=[
            DetectionBody(
                label=d.label,
                score=round(d.score, 4),
                box=Box(x=d.x, y=d.y, w=d.w, h=d.h),
                time_ms=d.time_ms,
                model=d.model,
                track_id=d.track_id,
            )
            for d in found.detections
        ],
        derivatives=[
            DerivativeBody(
                kind=s.derivative.kind,
                mime_type=s.derivative.mime_type,
                width_px=s.derivative.width_px,
                height_px=s.derivative.height_px,
                size_bytes=s.derivative.size_bytes,
                url=s.url,
                details=s.derivative.details,
            )
            for s in found.derivatives
        ],
        tiles=tiles_of(
            [
                (s.derivative.kind, s.derivative.width_px, s.derivative.height_px, s.url)
                for s in found.derivatives
            ]
        ),
        playback=None
        if found.playback is None
        else PlaybackBody(
            state=found.playback.state,  # type: ignore[arg-type]
            reason=found.playback.reason,
            url=found.playback.url,
            mime_type=found.playback.mime_type,
        ),
    )


def _analysis(summary: dict[str, Any] | None) -> AnalysisBody | None:
    if not summary:
        return None
    return AnalysisBody(
        detectors=list(summary.get("detectors") or []),
        sampling=summary.get("sampling"),
        frames_sampled=summary.get("frames_sampled"),
        frames_detected=summary.get("frames_detected"),
        detect_interval_ms=summary.get("detect_interval_ms"),
    )


def job(row: Job) -> JobBody:
    """The API view of a job."""
    return JobBody(
        job_id=row.id,
        media_id=row.media_id,
        kind=row.kind,
        status=row.status,
        progress=row.progress,
        params=row.params,
        result_media_id=row.result_media_id,
        result=row.result,
        error_code=row.error_code,
        error=row.error,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        links=JobLinks(self=f"/v1/jobs/{row.id}", events=f"/v1/jobs/{row.id}/events"),
    )
