"""Response bodies of the HTTP API as pydantic models (built from rows by `common.api.bodies`).

The OpenAPI document's schemas are generated from these (`common.api.openapi`); field meanings are
in docs/CONTRACTS.md. Times are RFC 3339 UTC with a `Z` suffix.

`UtcTime` converts to UTC when a body is built and lets pydantic-core write the text (`Z` for
UTC, microseconds only when not zero: the same text as `common.core.times.iso_utc`, at about a
fifth of the cost of calling it per field; a page of 50 tiles has 150 times). Its JSON schema is
pinned to what the OpenAPI document has always said (`type: string`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema


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

    `deduplicated`: the device had these bytes stored already; this media shares them (the
    media `shares_bytes_of` names stores them) and needs no upload.
    """

    id: str
    status: str
    object: StorageObject | None
    upload: SignedRequestBody | None = None
    deduplicated: bool = False
    shares_bytes_of: str | None = None


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
    stationary: bool = False


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
    detect_interval_ms: int | None = None


class DerivativeBody(Schema):
    """A rendition, with a short-lived signed GET URL."""

    kind: str
    mime_type: str
    width_px: int
    height_px: int
    size_bytes: int
    url: str


class MediaDetailBody(MediaSummary):
    """Everything about one media object. `shares_bytes_of`: the media that stores this one's
    bytes, when the device had them stored already at its declaration (else null)."""

    shares_bytes_of: str | None = None
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
