"""SQLAlchemy 2 models: the metadata schema in Postgres.

The Alembic migrations in `migrations/versions/` create exactly this schema; a test compares them.
All timestamps are `timestamptz` (tz-aware UTC in Python) with server defaults.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.core.status import (
    TERMINAL_STATUSES,
    JobKind,
    JobStatus,
    MediaKind,
    MediaStatus,
    MediaType,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MEDIA_STATUSES = tuple(status.value for status in MediaStatus)
UNFINISHED_STATUSES = tuple(s.value for s in MediaStatus if s not in TERMINAL_STATUSES)
MEDIA_KINDS = tuple(kind.value for kind in MediaKind)
MEDIA_TYPES = tuple(kind.value for kind in MediaType)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


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
        CheckConstraint(_in("status", MEDIA_STATUSES), name="status"),
        CheckConstraint(_in("media_type", MEDIA_TYPES), name="media_type"),
        CheckConstraint(_in("kind", MEDIA_KINDS), name="kind"),
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
        # The reconciler's scan of rows still on their way (a small partial index).
        Index(
            "ix_media_objects_unfinished",
            "status",
            "updated_at",
            postgresql_where=text(_in("status", UNFINISHED_STATUSES)),
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


class Job(Base):
    """A clip or snapshot request on one media object, or an ingest for a device, and its outcome.

    `params` is the validated request (e.g. `{"start_ms", "duration_ms"}`), `params_key` its
    canonical form; (media_id, kind, params_key) is unique, so the same request is the same job
    (for an ingest, which has no source media: (device_id, params_key)).
    `result` holds what the worker measured (e.g. which clip path it took).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("media_id", "kind", "params_key", name="uq_jobs_media_kind_params"),
        Index(
            "uq_jobs_ingest_device_params",
            "device_id",
            "params_key",
            unique=True,
            postgresql_where=text("kind = 'ingest'"),
        ),
        CheckConstraint(_in("kind", tuple(k.value for k in JobKind)), name="kind"),
        CheckConstraint(_in("status", tuple(s.value for s in JobStatus)), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        Index("ix_jobs_media_created", "media_id", "created_at", "id"),
        Index(
            "ix_jobs_unfinished",
            "status",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The source media (clips, snapshots); None for an ingest, whose media is its result.
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    # Whose job it is: the source's device, or the device an ingest is for.
    device_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    params_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=JobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    result_media_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_objects.id", ondelete="SET NULL")
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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


class CameraDetectionConfig(Base):
    """An owner's detection override for one camera (merged into the defaults for new media).

    `config` is a JSON object of `common.processing.AnalysisConfig` fields (filters, masks, ...).
    """

    __tablename__ = "camera_detection_configs"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Derivative(Base):
    """A rendition written by process_media (thumbnail or poster) in the derivatives bucket."""

    __tablename__ = "derivatives"
    __table_args__ = (
        UniqueConstraint("media_id", "kind", name="uq_derivatives_media_kind"),
        CheckConstraint(_in("kind", ("thumbnail", "poster", "web")), name="kind"),
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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


class DeviceOwner(Base):
    """Which user (JWT `sub` of a user token) may see which device's media."""

    __tablename__ = "device_owners"

    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Claim(Base):
    """A claim on a piece of work (`verify:<media>:<version>`, `process:<media>`, `job:<id>`).

    Held by `holder` until `expires_at`; an expired claim may be taken over (see
    `common.db.claims`).
    """

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Share(Base):
    """A link that opens one media without an account until it expires or is revoked.

    Only the SHA-256 of the link's token is stored (`token_sha256`); the token itself is shown
    once, in the URL, when the share is created.
    """

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_media_created", "media_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(256))
    open_count: Mapped[int] = mapped_column(Integer, server_default="0")
    last_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceSettings(Base):
    """What an owner set for one device: its retention in days (None: the deployment default,
    0: keep forever)."""

    __tablename__ = "device_settings"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Quota overrides by an admin (None: the deployment's defaults).
    quota_bytes_per_day: Mapped[int | None] = mapped_column(BigInteger)
    quota_media_per_day: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class QuotaUsage(Base):
    """What one scope (`device:<id>` or `user:<id>`) declared on one UTC day."""

    __tablename__ = "quota_usage"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    media: Mapped[int] = mapped_column(Integer, server_default="0")


class AuditEvent(Base):
    """Who did what, append-only (a trigger refuses updates and deletes)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_media", "media_id", "id"),
        Index("ix_audit_events_actor", "actor", "id"),
        Index("ix_audit_events_device", "device_id", "id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    media_id: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
