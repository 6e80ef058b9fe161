"""Devices: owners, settings, per-camera detection configuration and quota usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from common.db.models._base import Base


class DeviceOwner(Base):
    """Which user (JWT `sub` of a user token) may see which device's media."""

    __tablename__ = "device_owners"

    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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


class QuotaUsage(Base):
    """What one scope (`device:<id>` or `user:<id>`) declared on one UTC day."""

    __tablename__ = "quota_usage"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    media: Mapped[int] = mapped_column(Integer, server_default="0")


class DeviceCredentials(Base):
    """Whether a device's tokens are still accepted (`common.media.device_tokens`).

    `tokens_valid_after`: tokens issued (`iat`) before it are refused (all of a device's tokens
    revoked at once). `deleted_at`: the device was deleted; every token of it is refused.
    """

    __tablename__ = "device_credentials"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RevokedToken(Base):
    """One device token refused by its id (`jti`) until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str] = mapped_column(String(256))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
