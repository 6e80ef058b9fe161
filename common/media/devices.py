"""Devices as their owners manage them: who owns them, what they hold, how long it is kept.

Ownership is the `device_owners` table (a user may see and manage a device it owns). Who may grant
is explicit: an admin, or an existing owner (`common.api.access.require_owner`); the first owner of
a device is granted by an admin. Retention is `device_settings.retention_days` (None: the
deployment's `DEFAULT_RETENTION_DAYS`; 0: keep forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from common.core.settings import get_settings
from common.core.status import GONE_STATUSES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_LISTED_DEVICES = 1000


@dataclass(frozen=True)
class DeviceSummary:
    """One device: its cameras, how many media it holds, its newest capture, its retention."""

    device_id: str
    cameras: list[str]
    media_count: int
    last_captured_at: datetime | None
    retention_days: int


def retention_days(session: Session, device_id: str) -> int:
    """The device's effective retention in days (0: forever)."""
    from common.db.models import DeviceSettings

    row = session.get(DeviceSettings, device_id)
    if row is None or row.retention_days is None:
        return get_settings().default_retention_days
    return row.retention_days


def summaries(session: Session, device_ids: list[str] | None) -> list[DeviceSummary]:
    """Summaries of `device_ids` (None: every device that has media or owners, for admins)."""
    from sqlalchemy import func, select

    from common.db.models import DeviceOwner, DeviceSettings, MediaObject

    live = MediaObject.status.not_in([s.value for s in GONE_STATUSES])
    query = (
        select(
            MediaObject.device_id,
            func.array_agg(func.distinct(MediaObject.camera_id)),
            func.count(),
            func.max(MediaObject.captured_at),
        )
        .where(live)
        .group_by(MediaObject.device_id)
    )
    if device_ids is not None:
        query = query.where(MediaObject.device_id.in_(device_ids))
    found = {
        device: (sorted(cameras or []), int(count), last)
        for device, cameras, count, last in session.execute(query.limit(MAX_LISTED_DEVICES))
    }
    names = set(device_ids) if device_ids is not None else set(found)
    if device_ids is None:
        names |= set(session.execute(select(DeviceOwner.device_id).distinct()).scalars())
    settings = {
        row.device_id: row.retention_days
        for row in session.execute(
            select(DeviceSettings).where(DeviceSettings.device_id.in_(names))
        ).scalars()
    }
    default = get_settings().default_retention_days
    result = []
    for device in sorted(names)[:MAX_LISTED_DEVICES]:
        cameras, count, last = found.get(device, ([], 0, None))
        days = settings.get(device)
        result.append(
            DeviceSummary(device, cameras, count, last, default if days is None else days)
        )
    return result


def owned_devices(session: Session, user_id: str) -> list[str]:
    """The devices a user owns."""
    from sqlalchemy import select

    from common.db.models import DeviceOwner

    return sorted(
        session.execute(
            select(DeviceOwner.device_id).where(DeviceOwner.user_id == user_id)
        ).scalars()
    )


def owners(session: Session, device_id: str) -> list[tuple[str, datetime]]:
    """(user id, since when) of each owner of a device."""
    from sqlalchemy import select

    from common.db.models import DeviceOwner

    rows = session.execute(
        select(DeviceOwner.user_id, DeviceOwner.created_at)
        .where(DeviceOwner.device_id == device_id)
        .order_by(DeviceOwner.created_at)
    )
    return [(user, at) for user, at in rows]


PERSONAL_DEVICE_PREFIX = "u-"


def personal_device_id(user_id: str) -> str:
    """The device a user's own media go to when they name none: `u-` + 24 hex of SHA-256(user).

    A user owns it from their first such request (`ensure_personal_device`).
    """
    import hashlib

    return PERSONAL_DEVICE_PREFIX + hashlib.sha256(user_id.encode()).hexdigest()[:24]


def ensure_personal_device(session: Session, user_id: str) -> str:
    """The user's personal device id, owned by them (granted on first use)."""
    device_id = personal_device_id(user_id)
    grant(session, device_id, user_id)
    return device_id


def grant(session: Session, device_id: str, user_id: str) -> bool:
    """Make `user_id` an owner of `device_id`; True if it was not one before."""
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import DeviceOwner

    inserted = session.execute(
        insert(DeviceOwner)
        .values(user_id=user_id, device_id=device_id)
        .on_conflict_do_nothing()
        .returning(DeviceOwner.user_id)
    ).first()
    return inserted is not None


def revoke(session: Session, device_id: str, user_id: str) -> bool:
    """Remove an owner; True if it was one."""
    from sqlalchemy import delete

    from common.db.models import DeviceOwner

    result = session.execute(
        delete(DeviceOwner)
        .where(DeviceOwner.device_id == device_id, DeviceOwner.user_id == user_id)
        .returning(DeviceOwner.user_id)
    ).first()
    return result is not None


def set_retention(session: Session, device_id: str, days: int, actor: str) -> None:
    """Set a device's retention (0: keep forever)."""
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import DeviceSettings

    statement = insert(DeviceSettings).values(
        device_id=device_id, retention_days=days, updated_by=actor
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id"],
            set_={
                "retention_days": days,
                "updated_by": actor,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )
