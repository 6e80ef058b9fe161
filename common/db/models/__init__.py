"""SQLAlchemy 2 models: the metadata schema in Postgres.

The Alembic migrations in `migrations/versions/` create exactly this schema; a test compares them.
All timestamps are `timestamptz` (tz-aware UTC in Python) with server defaults.
"""

from common.db.models._base import (
    MEDIA_KINDS,
    MEDIA_STATUSES,
    MEDIA_TYPES,
    NAMING_CONVENTION,
    UNFINISHED_STATUSES,
    Base,
)
from common.db.models.activity import (
    AuditEvent,
    Claim,
    Job,
    Share,
)
from common.db.models.alerts import (
    DELIVERY_STATUSES,
    CameraEventSettings,
    Event,
    EventSegment,
    WebhookDelivery,
    WebhookEndpoint,
)
from common.db.models.devices import (
    CameraDetectionConfig,
    DeviceCredentials,
    DeviceOwner,
    DeviceSettings,
    QuotaUsage,
    RevokedToken,
)
from common.db.models.media import (
    UPLOAD_PROTOCOLS,
    Derivative,
    Detection,
    MediaObject,
    MotionSegment,
    StatusHistory,
    Track,
    UploadSession,
)

__all__ = [
    "DELIVERY_STATUSES",
    "MEDIA_KINDS",
    "MEDIA_STATUSES",
    "MEDIA_TYPES",
    "NAMING_CONVENTION",
    "UNFINISHED_STATUSES",
    "UPLOAD_PROTOCOLS",
    "AuditEvent",
    "Base",
    "CameraDetectionConfig",
    "CameraEventSettings",
    "Claim",
    "Derivative",
    "Detection",
    "DeviceCredentials",
    "DeviceOwner",
    "DeviceSettings",
    "Event",
    "EventSegment",
    "Job",
    "MediaObject",
    "MotionSegment",
    "QuotaUsage",
    "RevokedToken",
    "Share",
    "StatusHistory",
    "Track",
    "UploadSession",
    "WebhookDelivery",
    "WebhookEndpoint",
]
