"""Events (objects a camera cares about, built from analysis tracks), per-camera event settings,
webhook endpoints and their deliveries.

An event spans one or more recordings of one camera (`event_segments`: the tracks it is made
of); `media_id` is the recording it starts in. docs/CONTRACTS.md, "Events" and "Webhooks".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
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

from common.db.models._base import Base, check_in

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "dead_lettered")
"""`webhook_deliveries.status`: queued or being retried, answered 2xx, refused for good (the
endpoint's URL is not allowed, or the endpoint was disabled), given up after the retry bound."""


class CameraEventSettings(Base):
    """What one camera turns into events: the labels it cares about and event clips.

    No row: the defaults (`common.media.events.settings.DEFAULT_EVENT_LABELS`, no clips).
    """

    __tablename__ = "camera_event_settings"
    __table_args__ = (
        CheckConstraint("clip_pre_ms >= 0 AND clip_post_ms >= 0", name="clip_padding"),
    )

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    labels: Mapped[list[str]] = mapped_column(JSONB)
    min_score: Mapped[float | None] = mapped_column(Float)
    clips: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    clip_pre_ms: Mapped[int] = mapped_column(Integer, server_default="5000")
    clip_post_ms: Mapped[int] = mapped_column(Integer, server_default="5000")
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Event(Base):
    """One object of a label its camera cares about, from its first to its last sighting.

    `start_at` / `end_at` are wall-clock times (a recording's `captured_at` plus the track's
    offsets); `media_id`, `track_id` the segment it starts with; `best_*` the segment whose box
    scored best (its snapshot is the event's). `clip_job_id` names the event clip's job.
    """

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("best_score >= 0 AND best_score <= 1", name="score_range"),
        CheckConstraint("end_at >= start_at", name="time_order"),
        # A device's events newest first (a user's: one range scan per owned device), by
        # camera, by label, and the unreviewed ones (partial): bench/explain_events.py.
        Index("ix_events_device_start", "device_id", "start_at", "id"),
        Index("ix_events_device_camera_start", "device_id", "camera_id", "start_at", "id"),
        Index("ix_events_device_label_start", "device_id", "label", "start_at", "id"),
        Index(
            "ix_events_device_unreviewed_start",
            "device_id",
            "start_at",
            "id",
            postgresql_where=text("reviewed_at IS NULL"),
        ),
        Index("ix_events_media", "media_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id"))
    track_id: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(128))
    camera_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    best_score: Mapped[float] = mapped_column(Float)
    best_media_id: Mapped[str] = mapped_column(String(40))
    best_track_id: Mapped[int] = mapped_column(Integer)
    segments: Mapped[int] = mapped_column(Integer, server_default="1")
    clip_job_id: Mapped[str | None] = mapped_column(String(40))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class EventSegment(Base):
    """One track of one recording that is (part of) an event; a track belongs to one event."""

    __tablename__ = "event_segments"

    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id"), primary_key=True)
    track_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    best_score: Mapped[float] = mapped_column(Float)


class WebhookEndpoint(Base):
    """A URL that receives signed deliveries of the event types it subscribes to.

    A user's endpoint (`user_id`) hears of the devices the user owns; an admin's (`user_id`
    null) of `device_ids`, or of every device when that is null. `labels` and `cameras` narrow
    what it hears (null: all). `secret` signs deliveries (shown once, at creation).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(256), index=True)
    device_ids: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSONB)
    labels: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    cameras: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    description: Mapped[str | None] = mapped_column(String(256))
    secret: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class WebhookDelivery(Base):
    """One payload for one endpoint, sent until it is answered 2xx or given up.

    `dedupe_key` makes enqueueing idempotent (`<type>:<subject>`: a replayed notification never
    queues a second delivery); `payload` is the JSON body, fixed when queued; `attempts` counts
    the POSTs made, `response_status` / `error` are the last one's outcome.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "dedupe_key", name="uq_webhook_deliveries_endpoint_key"),
        CheckConstraint(check_in("status", DELIVERY_STATUSES), name="status"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_pending",
            "updated_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    device_id: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    replays: Mapped[int] = mapped_column(Integer, server_default="0")
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
