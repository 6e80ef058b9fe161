"""Media objects, their history, uploads in progress and what analysis found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from common.core.status import (
    DERIVATIVE_KINDS,
    MediaKind,
    MediaStatus,
)
from common.db.models._base import (
    MEDIA_KINDS,
    MEDIA_STATUSES,
    MEDIA_TYPES,
    UNFINISHED_STATUSES,
    Base,
    check_in,
)


class MediaObject(Base):
    """One capture declared by a device, and everything learned about its bytes.

    Declared values (`size_bytes`, `sha256`, `md5`) come from the device (or from the server for
    bytes it stores itself); `verified_*`, `actual_size_bytes` and `sampling_id` from the
    verification pass over the stored version, `object_version` (opaque: a GCS generation or an
    S3 version id) being the version that was verified.
    """

    __tablename__ = "media_objects"
    __table_args__ = (
        UniqueConstraint(
            "device_id", "camera_id", "message_id", name="uq_media_objects_device_camera_message"
        ),
        UniqueConstraint("bucket", "object_name", name="uq_media_objects_bucket_object"),
        CheckConstraint(check_in("status", MEDIA_STATUSES), name="status"),
        CheckConstraint(check_in("media_type", MEDIA_TYPES), name="media_type"),
        CheckConstraint(check_in("kind", MEDIA_KINDS), name="kind"),
        CheckConstraint("size_bytes >= 0", name="size_nonnegative"),
        Index("ix_media_objects_device_captured", "device_id", "captured_at", "id"),
        # Gallery filters (common.media.gallery): camera, parent, labels.
        Index(
            "ix_media_objects_device_camera_captured",
            "device_id",
            "camera_id",
            "captured_at",
            "id",
        ),
        Index(
            "ix_media_objects_parent_captured",
            "parent_id",
            "captured_at",
            "id",
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
        # Dedupe: a device's originals by content (SHA-256); `common.media.declare` serializes
        # declarations of equal bytes with an advisory lock, so a race ends with one media.
        Index(
            "ix_media_objects_device_sha256",
            "device_id",
            "sha256",
            postgresql_where=text("parent_id IS NULL"),
        ),
        # The retention sweeper: oldest captures first, among media that still have bytes.
        Index(
            "ix_media_objects_captured_live",
            "captured_at",
            postgresql_where=text("status NOT IN ('deleting', 'deleted')"),
        ),
        Index(
            "ix_media_objects_labels",
            "labels",
            postgresql_using="gin",
            postgresql_ops={"labels": "jsonb_path_ops"},
        ),
        Index(
            "ix_media_objects_object_labels",
            "object_labels",
            postgresql_using="gin",
            postgresql_ops={"object_labels": "jsonb_path_ops"},
        ),
        # The reconciler's scan of rows still on their way (a small partial index).
        Index(
            "ix_media_objects_unfinished",
            "status",
            "updated_at",
            postgresql_where=text(check_in("status", UNFINISHED_STATUSES)),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128))
    camera_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(256))
    media_type: Mapped[str] = mapped_column(String(16))
    mime_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), server_default=MediaKind.UPLOAD.value)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("media_objects.id"))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(24))
    request_hash: Mapped[str] = mapped_column(String(64))
    verified_sha256: Mapped[str | None] = mapped_column(String(64))
    verified_md5: Mapped[str | None] = mapped_column(String(24))
    sampling_id: Mapped[str | None] = mapped_column(String(17))
    actual_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    bucket: Mapped[str] = mapped_column(String(222))
    object_name: Mapped[str] = mapped_column(String(1024))
    object_version: Mapped[str | None] = mapped_column(String(1024))
    storage_uri: Mapped[str] = mapped_column(Text)
    # The trace of the request that declared it (32 hex): the bucket's notification, verification
    # and processing log under it, so one upload is one trace (common.core.context).
    trace_id: Mapped[str | None] = mapped_column(String(32))
    width_px: Mapped[int | None] = mapped_column(Integer)
    height_px: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    video_codec: Mapped[str | None] = mapped_column(String(32))
    frame_rate: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32), server_default=MediaStatus.PENDING_UPLOAD.value)
    status_reason_code: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
    decode_warnings: Mapped[list[str] | None] = mapped_column(JSONB)
    # What analysis reported as a whole: {"detectors": [...], "counts": {"person": 2},
    # "sampling": "keyframes", "frames_sampled": 12, "frames_detected": 7}.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    labels: Mapped[list[str] | None] = mapped_column(JSONB)
    # The labels of the objects analysis reported (its tracks), sorted: ["car", "person"];
    # what `GET /v1/media?object=` filters on (the user's own `labels` are apart).
    object_labels: Mapped[list[str] | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    # Incremented by every edit of what people set (labels, note, pin): the ETag's number.
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    pinned: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[str | None] = mapped_column(String(256))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class StatusHistory(Base):
    """Append-only record of every status transition (and rejected object generations)."""

    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    media_id: Mapped[str] = mapped_column(
        ForeignKey("media_objects.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(String(256))
    object_version: Mapped[str | None] = mapped_column(String(1024))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


UPLOAD_PROTOCOLS = ("gcs_resumable", "s3_multipart")
"""`common.storage.base.RESUMABLE_GCS` and `RESUMABLE_S3`."""


class UploadSession(Base):
    """A resumable upload of one media's bytes (`common.media.uploads`).

    `protocol` is the store's (a Cloud Storage session the device opened and holds, or an S3
    multipart upload whose `upload_id` the server keeps), `chunk_size_bytes` the chunk or part
    size every part but the last has, `completed_at` when the server completed a multipart upload.
    """

    __tablename__ = "upload_sessions"
    __table_args__ = (
        CheckConstraint(check_in("protocol", UPLOAD_PROTOCOLS), name="protocol"),
        CheckConstraint("chunk_size_bytes > 0", name="chunk_size_positive"),
    )

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media_objects.id", ondelete="CASCADE"), primary_key=True
    )
    protocol: Mapped[str] = mapped_column(String(32))
    upload_id: Mapped[str | None] = mapped_column(Text)
    chunk_size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Derivative(Base):
    """A rendition written by process_media in the derivatives bucket (kinds:
    `common.core.status.DERIVATIVE_KINDS`); `details` holds facts of its own (a storyboard's
    time index)."""

    __tablename__ = "derivatives"
    __table_args__ = (
        UniqueConstraint("media_id", "kind", name="uq_derivatives_media_kind"),
        CheckConstraint(check_in("kind", DERIVATIVE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(222))
    object_name: Mapped[str] = mapped_column(String(1024))
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Detection(Base):
    """One detected object: label, score, pixel box (x, y, w, h) and, for video, the frame time."""

    __tablename__ = "detections"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        CheckConstraint("w >= 0 AND h >= 0", name="box_size"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    media_id: Mapped[str] = mapped_column(
        ForeignKey("media_objects.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    time_ms: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str] = mapped_column(String(128))
    track_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Track(Base):
    """One object followed across sampled frames (one box for an image), as analysis reported it.

    `x, y, w, h` is its best box in source pixels; the snapshot (its best frame cut around that
    box) is a JPEG in the derivatives bucket.
    """

    __tablename__ = "tracks"
    __table_args__ = (
        UniqueConstraint("media_id", "track_id", name="uq_tracks_media_track"),
        CheckConstraint("best_score >= 0 AND best_score <= 1", name="score_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    first_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_ms: Mapped[int | None] = mapped_column(BigInteger)
    best_score: Mapped[float] = mapped_column(Float)
    median_score: Mapped[float] = mapped_column(Float)
    best_time_ms: Mapped[int | None] = mapped_column(BigInteger)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    boxes: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(128))
    snapshot_bucket: Mapped[str | None] = mapped_column(String(222))
    snapshot_object_name: Mapped[str | None] = mapped_column(String(1024))
    snapshot_width_px: Mapped[int | None] = mapped_column(Integer)
    snapshot_height_px: Mapped[int | None] = mapped_column(Integer)
    # The object stayed in place for a while (a parked car): one long track.
    stationary: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class MotionSegment(Base):
    """A stretch of a video with motion: `[start_ms, end_ms)` and its largest moving area."""

    __tablename__ = "motion_segments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    media_id: Mapped[str] = mapped_column(
        ForeignKey("media_objects.id", ondelete="CASCADE"), index=True
    )
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    area_px: Mapped[int] = mapped_column(BigInteger)
    area_fraction: Mapped[float] = mapped_column(Float)
