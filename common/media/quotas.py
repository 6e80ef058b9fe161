"""Daily quotas: bytes and media declared per device and per user, per UTC day.

Charged when a declaration creates a row (a replay costs nothing; a capture that shares bytes
stored already counts one media and no bytes), in the declaration's own statement
(`declare_media`, migration 0011), by one conditional upsert per scope:

    INSERT INTO quota_usage ... ON CONFLICT (scope, day) DO UPDATE SET bytes = bytes + :b, ...
        WHERE quota_usage.bytes + :b <= :max_bytes AND quota_usage.media + 1 <= :max_media

Concurrent declarations of one scope queue on that row (READ COMMITTED re-checks the condition
against the row as the previous one left it), so N parallel declarations at the edge of a quota
admit exactly what fits, and a refused declaration fails its statement, insert included. Refusals
answer 429 with `Retry-After` (seconds to the next UTC midnight) and code `quota_bytes_per_day`
or `quota_media_per_day`. A device's limits are an admin's override (`device_settings`), else
the deployment's `QUOTA_DEVICE_*`; a user's are `QUOTA_USER_*`; what jobs make counts against
nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
    """A device's limits (with an admin's override) and, given `user_id`, its user's, as
    `device_state` reports them (`declare_media` reads the same in its statement)."""
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


def scopes_of(device_id: str, created_by: str) -> list[dict[str, Any]]:
    """The scopes a declaration by `created_by` (`device:<id>`, `user:<id>`, `job:<id>`) for
    `device_id` is charged to, as `declare_media` takes them: `scope`, the default
    `bytes_per_day` and `media_per_day`, and `device_override` (an admin's override in
    `device_settings` replaces the defaults, read in the same statement)."""
    if created_by.startswith("job:"):  # what a job makes counts against nobody
        return []
    settings = get_settings()
    found: list[dict[str, Any]] = [
        {
            "scope": f"device:{device_id}",
            "bytes_per_day": settings.quota_device_bytes_per_day,
            "media_per_day": settings.quota_device_media_per_day,
            "device_override": True,
        }
    ]
    if created_by.startswith("user:"):
        found.append(
            {
                "scope": f"user:{created_by.removeprefix('user:')}",
                "bytes_per_day": settings.quota_user_bytes_per_day,
                "media_per_day": settings.quota_user_media_per_day,
                "device_override": False,
            }
        )
    return found


def refusal(
    exceeded: str, scope: str, size_bytes: int, now: datetime | None = None
) -> TooManyRequests:
    """The 429 of a declaration that `scope`'s `exceeded` quota (`bytes` or `media`) refused,
    logged as `quota.refused`."""
    from common.observe.events import log_event

    code = MEDIA_PER_DAY if exceeded == "media" else BYTES_PER_DAY
    log_event("quota.refused", reason_code=code, scope=scope, size_bytes=size_bytes)
    return TooManyRequests(
        f"{scope} reached its {code.removeprefix('quota_').replace('_', ' ')} quota",
        retry_after_seconds=_retry_after(now or datetime.now(UTC)),
        code=code,
        details={"scope": scope},
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
