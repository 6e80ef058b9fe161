"""The latest media of each device, in one call (`GET /v1/devices/latest-media`).

For each device the caller sees (a device token: itself; a user: the devices it owns; an admin:
every device that has media, at most `MAX_DEVICES`), its newest `per_device` media by capture
time, filtered like the gallery (`common.media.gallery.Filters`; deleted media left out unless a
status asks for them). One statement: the devices, then for each a LATERAL subquery that is an
index range scan on `(device_id, captured_at, id)` (or `(device_id, camera_id, captured_at, id)`)
limited to `per_device` rows, so the cost grows with the number of devices, not of media.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.media.gallery import MediaTile, bound_filters, filtered, tile_columns

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.media.gallery import Filters

MAX_DEVICES = 1000
MAX_PER_DEVICE = 20


@dataclass(frozen=True)
class DeviceLatest:
    """One device and its newest media (newest first; empty when it has none that match)."""

    device_id: str
    items: list[MediaTile]


def latest_per_device(
    session: Session,
    *,
    device_ids: list[str] | None,
    user_id: str | None,
    filters: Filters,
    per_device: int,
) -> list[DeviceLatest]:
    """The newest `per_device` media of each device (see the module docstring), devices in id
    order.

    Args:
        session: the unit of work.
        device_ids: exactly these devices (None: the user's, or every device for an admin).
        user_id: the user whose owned devices are listed (when `device_ids` is None).
        filters: gallery filters (`device_id` among them narrows to that device).
        per_device: 1 to `MAX_PER_DEVICE`.
    """
    from sqlalchemy import String, bindparam, func, select, true
    from sqlalchemy.dialects.postgresql import ARRAY

    from common.db.models import Derivative, DeviceOwner, MediaObject

    m = MediaObject
    params: dict[str, Any] = {"per_device": per_device}
    if device_ids is not None:
        params["device_ids"] = device_ids
        unnest = func.unnest(bindparam("device_ids", type_=ARRAY(String)))
        devices = select(unnest.column_valued("device_id")).subquery("devices")
    elif user_id is not None:
        params["owner"] = user_id
        devices = (
            select(DeviceOwner.device_id)
            .where(DeviceOwner.user_id == bindparam("owner"))
            .subquery("devices")
        )
    else:
        devices = select(m.device_id).distinct().limit(MAX_DEVICES).subquery("devices")
    thumbnail = (Derivative.media_id == m.id) & (Derivative.kind == "thumbnail")
    values = bound_filters(filters)
    params.update(values)
    newest = filtered(
        select(*tile_columns())
        .outerjoin(Derivative, thumbnail)
        .where(m.device_id == devices.c.device_id),
        tuple(sorted(values)),
    )
    newest_rows = (
        newest.order_by(m.captured_at.desc(), m.id.desc())
        .limit(bindparam("per_device"))
        .lateral("newest")
    )
    statement = (
        select(devices.c.device_id.label("for_device"), newest_rows)
        .select_from(devices)
        .outerjoin(newest_rows, true())
        .order_by(devices.c.device_id, newest_rows.c.captured_at.desc(), newest_rows.c.id.desc())
        .limit(MAX_DEVICES * per_device)
    )
    found: dict[str, list[MediaTile]] = {}
    for row in session.execute(statement, params).mappings():
        tiles = found.setdefault(row["for_device"], [])
        if row["id"] is not None:  # a device without matching media has one empty row
            tiles.append({k: v for k, v in row.items() if k != "for_device"})
    return [DeviceLatest(device_id, tiles) for device_id, tiles in found.items()]
