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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema


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


class TileBody(Schema):
    """One of a gallery tile's pictures (4:3, cropped around the centre) for `srcset`: `density`
    1 or 2 (device pixels per CSS pixel), WebP or JPEG; never enlarged, so a small picture's tile
    is smaller than 320 x 240."""

    url: str
    mime_type: str
    width_px: int
    height_px: int
    density: int


class MediaSummary(Schema):
    """The list view of a media object; `tiles` are the grid tile's renditions for `srcset`
    (empty for media processed before they existed: `thumbnail_url` then)."""

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
    tiles: list[TileBody] = Field(default_factory=list)
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
    """A rendition, with a short-lived signed GET URL; `details` are its own facts (a
    storyboard's time index: `tile_width_px`, `tile_height_px`, `columns`, `interval_ms`,
    `times_ms`)."""

    kind: str
    mime_type: str
    width_px: int
    height_px: int
    size_bytes: int
    url: str
    details: dict[str, Any] | None = None


class PlaybackBody(Schema):
    """How a browser plays this video (`docs/CONTRACTS.md`, "Renditions").

    `state`: `original` (it plays as it is: `url` is the original's signed GET), `rendition`
    (the `playback` rendition's URL), `preparing` (processing is making one), `unavailable`
    (none could be made: `reason` says why) or `unknown` (processed before playability was
    checked: try the original). `reason` says why a rendition is needed or missing."""

    state: Literal["original", "rendition", "preparing", "unavailable", "unknown"]
    reason: str | None
    url: str | None
    mime_type: str | None


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
    playback: PlaybackBody | None = None


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
