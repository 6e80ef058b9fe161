"""Daily quotas: bytes and media declared per device and per user, per UTC day.

Charged when a declaration creates a row (a replay or a dedupe hit costs nothing), in the
declaration's own transaction, by one conditional upsert per scope:

    INSERT INTO quota_usage ... ON CONFLICT (scope, day) DO UPDATE SET bytes = bytes + :b, ...
        WHERE quota_usage.bytes + :b <= :max_bytes AND quota_usage.media + 1 <= :max_media

Concurrent declarations of one scope queue on that row (READ COMMITTED re-checks the condition
against the row as the previous one left it), so N parallel declarations at the edge of a quota
admit exactly what fits, and a refused declaration rolls back with its insert. Refusals answer 429
with `Retry-After` (seconds to the next UTC midnight) and code `quota_bytes_per_day` or
`quota_media_per_day`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from common.core.errors import TooManyRequests
from common.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

BYTES_PER_DAY = "quota_bytes_per_day"
MEDIA_PER_DAY = "quota_media_per_day"


@dataclass(frozen=True)
class Limits:
    """One scope's limits for a day."""

    scope: str
    bytes_per_day: int
    media_per_day: int


def limits_for(session: Session, device_id: str, user_id: str | None) -> list[Limits]:
    """The scopes a declaration is charged to: its device (with an admin's override), its user."""
    from common.db.models import DeviceSettings

    settings = get_settings()
    row = session.get(DeviceSettings, device_id)
    scopes = [
        Limits(
            f"device:{device_id}",
            row.quota_bytes_per_day
            if row is not None and row.quota_bytes_per_day is not None
            else settings.quota_device_bytes_per_day,
            row.quota_media_per_day
            if row is not None and row.quota_media_per_day is not None
            else settings.quota_device_media_per_day,
        )
    ]
    if user_id is not None:
        scopes.append(
            Limits(
                f"user:{user_id}",
                settings.quota_user_bytes_per_day,
                settings.quota_user_media_per_day,
            )
        )
    return scopes


def _retry_after(now: datetime) -> int:
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, int((tomorrow - now).total_seconds()))


def charge(
    session: Session, scopes: list[Limits], size_bytes: int, now: datetime | None = None
) -> None:
    """Count one declaration of `size_bytes` against each scope, or refuse it.

    Raises:
        TooManyRequests: a scope's bytes or media for today would go over its limit (429).
    """
    from sqlalchemy import text

    moment = now or datetime.now(UTC)
    day: date = moment.date()
    for limits in scopes:
        refused = None
        if size_bytes > limits.bytes_per_day:
            refused = BYTES_PER_DAY
        elif limits.media_per_day < 1:
            refused = MEDIA_PER_DAY
        else:
            charged = session.execute(
                text(
                    "INSERT INTO quota_usage (scope, day, bytes, media) VALUES (:s, :d, :b, 1) "
                    "ON CONFLICT (scope, day) DO UPDATE SET bytes = quota_usage.bytes + :b, "
                    "media = quota_usage.media + 1 "
                    "WHERE quota_usage.bytes + :b <= :max_b AND quota_usage.media + 1 <= :max_m "
                    "RETURNING bytes"
                ),
                {
                    "s": limits.scope,
                    "d": day,
                    "b": size_bytes,
                    "max_b": limits.bytes_per_day,
                    "max_m": limits.media_per_day,
                },
            ).first()
            if charged is None:
                used = session.execute(
                    text("SELECT bytes, media FROM quota_usage WHERE scope = :s AND day = :d"),
                    {"s": limits.scope, "d": day},
                ).one()
                refused = MEDIA_PER_DAY if used.media + 1 > limits.media_per_day else BYTES_PER_DAY
        if refused is not None:
            from common.observe.events import log_event

            log_event(
                "quota.refused", reason_code=refused, scope=limits.scope, size_bytes=size_bytes
            )
            raise TooManyRequests(
                f"{limits.scope} reached its {refused.removeprefix('quota_').replace('_', ' ')} quota",
                retry_after_seconds=_retry_after(moment),
                code=refused,
                details={"scope": limits.scope},
            )


@dataclass(frozen=True)
class QuotaState:
    """A device's limits today (with where they come from) and what it used."""

    device_id: str
    day: date
    bytes_per_day: int
    media_per_day: int
    overridden: bool
    used_bytes: int
    used_media: int


def device_state(session: Session, device_id: str, now: datetime | None = None) -> QuotaState:
    """The device's limits and today's (UTC) usage."""
    from common.db.models import DeviceSettings, QuotaUsage

    day = (now or datetime.now(UTC)).date()
    limits = limits_for(session, device_id, None)[0]
    row = session.get(DeviceSettings, device_id)
    used = session.get(QuotaUsage, (limits.scope, day))
    return QuotaState(
        device_id=device_id,
        day=day,
        bytes_per_day=limits.bytes_per_day,
        media_per_day=limits.media_per_day,
        overridden=row is not None
        and (row.quota_bytes_per_day is not None or row.quota_media_per_day is not None),
        used_bytes=used.bytes if used else 0,
        used_media=used.media if used else 0,
    )


def set_override(
    session: Session,
    device_id: str,
    *,
    bytes_per_day: int | None,
    media_per_day: int | None,
    actor: str,
) -> None:
    """Set (or, with None, clear) an admin's override of a device's daily limits."""
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import DeviceSettings

    values = {"quota_bytes_per_day": bytes_per_day, "quota_media_per_day": media_per_day}
    statement = insert(DeviceSettings).values(device_id=device_id, updated_by=actor, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id"], set_={**values, "updated_by": actor}
        )
    )
