"""The retention sweeper: media older than their device's retention, and not pinned, are deleted
through the one delete path (`common.media.delete`).

Run by the `retention` tick. Each run deletes at most `RETENTION_BATCH_SIZE` media, oldest capture
first; a device's retention is `device_settings.retention_days` or `DEFAULT_RETENTION_DAYS`, and
0 keeps forever. Two runs at once never delete the same media twice: each media is claimed
(`delete:<id>`) before it is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.settings import get_settings
from common.core.status import GONE_STATUSES
from common.core.times import utc_now
from common.db.claims import claimed
from common.media.delete import delete_media

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 300


@dataclass
class SweepReport:
    """What one sweep did."""

    deleted: list[str] = field(default_factory=list)
    skipped_claimed: int = 0


def expired_media(session: Session, now: datetime, limit: int) -> list[str]:
    """Ids of media past their device's retention at `now`, unpinned, oldest capture first."""
    from sqlalchemy import func, select

    from common.db.models import DeviceSettings, MediaObject

    days = func.coalesce(DeviceSettings.retention_days, get_settings().default_retention_days)
    query = (
        select(MediaObject.id)
        .outerjoin(DeviceSettings, DeviceSettings.device_id == MediaObject.device_id)
        .where(
            MediaObject.status.not_in([s.value for s in GONE_STATUSES]),
            MediaObject.pinned.is_(False),
            days > 0,
            MediaObject.captured_at < now - func.make_interval(0, 0, 0, days),
        )
        .order_by(MediaObject.captured_at)
        .limit(limit)
    )
    found = list(session.execute(query).scalars())
    session.commit()
    return found


def sweep(session: Session, now: datetime | None = None) -> SweepReport:
    """One sweep (see the module docstring).

    Args:
        session: the caller's unit of work (each delete commits it).
        now: the time retention is judged at (tz-aware UTC; default: now).

    Raises:
        TransientError: the database or Firestore is unavailable (the tick is retried).
    """
    settings = get_settings()
    report = SweepReport()
    for media_id in expired_media(session, now or utc_now(), settings.retention_batch_size):
        with claimed(f"delete:{media_id}", CLAIM_TTL_SECONDS) as claim:
            if claim is None:
                report.skipped_claimed += 1
                continue
            delete_media(
                session, media_id, actor="retention", reason=reasons.reason(reasons.RETENTION)
            )
            report.deleted.append(media_id)
    log.info(
        "retention: %d deleted, %d claimed elsewhere", len(report.deleted), report.skipped_claimed
    )
    return report
