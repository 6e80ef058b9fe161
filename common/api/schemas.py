"""Response bodies of the HTTP API as pydantic models, and their builders from rows.

The OpenAPI document's schemas are generated from these (`common.api.openapi`); field meanings are
in docs/CONTRACTS.md. Times are RFC 3339 UTC with a `Z` suffix.

`UtcTime` converts to UTC when a body is built and lets pydantic-core write the text (`Z` for
UTC, microseconds only when not zero: the same text as `common.core.times.iso_utc`, at about a
fifth of the cost of calling it per field; a page of 50 tiles has 150 times). Its JSON schema is
pinned to what the OpenAPI document has always said (`type: string`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema

if TYPE_CHECKING:
    from common.api.auth import Principal
    from common.db.models import Job, MediaObject
    from common.media.gallery import MediaTile
    from common.media.listing import MediaDetail
    from common.storage.base import SignedRequest


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)


UtcTime = Annotated[
    datetime, AfterValidator(_as_utc), WithJsonSchema({"type": "string"}, mode="serialization")
]
"""A tz-aware time, written as RFC 3339 UTC with a `Z` suffix."""


class Schema(BaseModel):
    """Base of response models: closed (no extra fields)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(Schema):
    """Every error answer: a stable `code`, a `message` for people, optional `details`."""

    code: str
    message: str
    details: Any = None


class StorageObject(Schema):
    """Where the bytes live: bucket, object name, the pinned version (GCS generation or S3
    version id) and the URI. Shown to admins, and to everyone only with
    `EXPOSE_STORAGE_LOCATIONS=true` (else null: media is reached by signed URL or `/content`)."""

    bucket: str
    name: str
    version: str | None
    uri: str


class SignedRequestBody(Schema):
    """A signed request: send `method` to `url` with exactly `headers` before `expires_at`."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: UtcTime


class DownloadBody(Schema):
    """A short-lived signed GET of the media's verified bytes."""

    method: str
    url: str
    expires_at: UtcTime


class CreateMediaResponse(Schema):
    """Answer to a declaration; `upload` while the bytes are still expected.

    `deduplicated`: the device already has media with these bytes and this is it (200).
    """

    id: str
    status: str
    object: StorageObject | None
    upload: SignedRequestBody | None = None
    deduplicated: bool = False


class InlineSnapshotResponse(Schema):
    """Answer to an inline snapshot: its media, and the type sniffed from the bytes."""

    id: str
    status: str
    object: StorageObject | None
    mime_type: str
    declared_mime_type: str | None


class MediaSummary(Schema):
    """The list view of a media object."""

    id: str
    device_id: str
    camera_id: str
    message_id: str
    captured_at: UtcTime
    reason: str | None
    media_type: str
    mime_type: str
    kind: str
    parent_id: str | None
    size_bytes: int
    duration_ms: int | None
    status: str
    status_reason_code: str | None
    status_reason: str | None
    thumbnail_url: str | None
    pinned: bool
    labels: list[str]
    note: str | None
    original_filename: str | None
    counts: dict[str, int]
    created_at: UtcTime
    updated_at: UtcTime


class MediaPage(Schema):
    """One page of media, newest capture first; `next_cursor` is null on the last page."""

    items: list[MediaSummary]
    next_cursor: str | None


class Declared(Schema):
    """What was declared about the bytes."""

    size_bytes: int
    sha256: str
    md5: str


class Verified(Schema):
    """What verification measured (nulls until verified)."""

    size_bytes: int | None
    sha256: str | None
    md5: str | None
    sampling_id: str | None
    sha256_matches: bool | None


class Properties(Schema):
    """What analysis found out about the media (nulls until processed)."""

    width_px: int | None
    height_px: int | None
    duration_ms: int | None
    video_codec: str | None
    frame_rate: float | None
    decode_warnings: list[str]


class Box(Schema):
    """A box in pixels of the oriented full-resolution image or frame."""

    x: int
    y: int
    w: int
    h: int


class DetectionBody(Schema):
    """One box; `time_ms` is the frame's time for videos (null for images), `track_id` the
    track it belongs to."""

    label: str
    score: float
    box: Box
    time_ms: int | None
    model: str
    track_id: int | None


class TrackBody(Schema):
    """One object followed across sampled frames: times in ms, its best box and a snapshot."""

    track_id: int
    label: str
    first_ms: int | None
    last_ms: int | None
    best_score: float
    median_score: float
    best_time_ms: int | None
    box: Box
    boxes: int
    model: str
    snapshot_url: str | None


class MotionSegmentBody(Schema):
    """A stretch `[start_ms, end_ms)` of a video with motion, and its largest moving area."""

    start_ms: int
    end_ms: int
    area_px: int
    area_fraction: float


class AnalysisBody(Schema):
    """How the media was analysed: the detectors that ran, sampling of a video."""

    detectors: list[str]
    sampling: str | None
    frames_sampled: int | None
    frames_detected: int | None


class DerivativeBody(Schema):
    """A rendition, with a short-lived signed GET URL."""

    kind: str
    mime_type: str
    width_px: int
    height_px: int
    size_bytes: int
    url: str


class MediaDetailBody(MediaSummary):
    """Everything about one media object."""

    declared: Declared
    verified: Verified
    object: StorageObject | None
    properties: Properties
    analysis: AnalysisBody | None
    tracks: list[TrackBody]
    motion_segments: list[MotionSegmentBody]
    detections: list[DetectionBody]
    derivatives: list[DerivativeBody]


class JobLinks(Schema):
    """Where to read the job and follow it live."""

    self: str
    events: str


class JobBody(Schema):
    """A clip or snapshot job."""

    job_id: str
    media_id: str | None
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    result_media_id: str | None
    result: dict[str, Any] | None
    error_code: str | None
    error: str | None
    created_by: str
    created_at: UtcTime
    updated_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    links: JobLinks


class JobPage(Schema):
    """A media's jobs, newest first."""

    items: list[JobBody]


# ----------------------------------------------------------------------------------- builders
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


def _summary_fields(media: MediaObject, thumbnail_url: str | None = None) -> dict[str, Any]:
    return {
        "id": media.id,
        "device_id": media.device_id,
        "camera_id": media.camera_id,
        "message_id": media.message_id,
        "captured_at": media.captured_at,
        "reason": media.reason,
        "media_type": media.media_type,
        "mime_type": media.mime_type,
        "kind": media.kind,
        "parent_id": media.parent_id,
        "size_bytes": media.size_bytes,
        "duration_ms": media.duration_ms,
        "status": media.status,
        "status_reason_code": media.status_reason_code,
        "status_reason": media.status_reason,
        "thumbnail_url": thumbnail_url,
        "pinned": bool(media.pinned),
        "labels": list(media.labels or []),
        "note": media.note,
        "original_filename": media.original_filename,
        "counts": dict((media.analysis or {}).get("counts") or {}),
        "created_at": media.created_at,
        "updated_at": media.updated_at,
    }


def summary(media: MediaObject, thumbnail_url: str | None = None) -> MediaSummary:
    """The list view (a gallery tile) of one media row."""
    return MediaSummary(**_summary_fields(media, thumbnail_url))


_TILE_ONLY = ("thumbnail_bucket", "thumbnail_object_name", "analysis")


def media_page(
    tiles: list[MediaTile], thumbnail_urls: dict[str, str], next_cursor: str | None
) -> MediaPage:
    """A page of gallery tiles (`common.media.gallery`) with their signed thumbnail URLs: the
    same body `summary` gives for each row, validated in one call for the page."""
    items = []
    for tile in tiles:
        fields: dict[str, Any] = dict(tile)
        for name in _TILE_ONLY:
            del fields[name]
        fields["thumbnail_url"] = thumbnail_urls.get(tile["id"])
        fields["pinned"] = bool(tile["pinned"])
        fields["labels"] = list(tile["labels"] or [])
        fields["counts"] = dict((tile["analysis"] or {}).get("counts") or {})
        items.append(fields)
    return MediaPage.model_validate({"items": items, "next_cursor": next_cursor})


def detail(found: MediaDetail, principal: Principal) -> MediaDetailBody:
    """The detail view of one media, with detections and signed derivative URLs."""
    media = found.media
    thumbnail = next((s.url for s in found.derivatives if s.derivative.kind == "thumbnail"), None)
    return MediaDetailBody(
        **_summary_fields(media, thumbnail),
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
            )
            for s in found.derivatives
        ],
    )


def _analysis(summary: dict[str, Any] | None) -> AnalysisBody | None:
    if not summary:
        return None
    return AnalysisBody(
        detectors=list(summary.get("detectors") or []),
        sampling=summary.get("sampling"),
        frames_sampled=summary.get("frames_sampled"),
        frames_detected=summary.get("frames_detected"),
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
