"""The gallery: one listing across the devices a caller sees, filtered, newest capture first.

Filters: device, camera, kind, media type, status, label, object found, capture-time window,
parent. Deleted media (`deleting`, `deleted`) are left out unless a status filter asks for them. Pages are keyset
pages on `(captured_at, id)` descending; the cursor carries the last item's sort key and a hash of
the filters, so a cursor reused with other filters is refused (422 `cursor_mismatch`) instead of
silently paging another listing. Every combination is served by an index range scan on
`(device_id, captured_at, id)` or `(device_id, camera_id, captured_at, id)`, by the partial
`(parent_id, captured_at, id)` index, or by the GIN index on `labels` or `object_labels`
(`bench/explain_gallery.py`
prints the plans on a million rows).

A page is one Core select of the columns a tile shows (`tile_columns()`, not whole ORM rows)
with the tile's thumbnail joined in (at most one per media: `uq_derivatives_media_kind`), which
Postgres hands back as one JSON array (`json_agg` over the ordered, limited rows): one query, one
value to decode (by `json.loads`, in C) instead of 24 columns per row through the driver's
per-value converters, and no ORM object building. Each element is a `MediaTile`;
`bench/bench_http.py` measures it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal

from common.core.cursor import decode_cursor, encode_cursor, fingerprint_of
from common.core.status import GONE_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.orm import Session


SUMMARY_COLUMNS = (
    "id",
    "device_id",
    "camera_id",
    "message_id",
    "captured_at",
    "reason",
    "media_type",
    "mime_type",
    "kind",
    "parent_id",
    "size_bytes",
    "duration_ms",
    "status",
    "status_reason_code",
    "status_reason",
    "pinned",
    "labels",
    "note",
    "original_filename",
    "created_at",
    "updated_at",
)
"""The `media_objects` columns of the list view, in its order: the one list of them (the page's
select, and the API's summary body from a tile or a row, `common.api.bodies`)."""

TILE_EXTRAS = ("analysis", "thumbnail_bucket", "thumbnail_object_name", "tiles")
"""What a tile holds besides `SUMMARY_COLUMNS`: `analysis` reduced to `{"counts": ...}`, where
its thumbnail is (None: it has none), and its grid tiles as `[kind, bucket, object name, width,
height]` (None: none yet)."""

MediaTile = dict[str, Any]
"""What a gallery page holds of each media (a row of `tile_columns()`): `SUMMARY_COLUMNS` and
`TILE_EXTRAS` by name."""


@cache
def tile_columns() -> tuple[ColumnElement[Any], ...]:
    """The columns of a `MediaTile`, labelled with its keys: `SUMMARY_COLUMNS`, then
    `TILE_EXTRAS`."""
    from sqlalchemy import func, select
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.orm import aliased

    from common.core.status import TILE_KINDS
    from common.db.models import Derivative, MediaObject

    m = MediaObject
    counts_only = func.jsonb_build_object("counts", m.analysis["counts"], type_=JSONB)
    tile = aliased(Derivative, name="tile")
    tiles = (
        select(
            func.json_agg(
                func.json_build_array(
                    tile.kind, tile.bucket, tile.object_name, tile.width_px, tile.height_px
                )
            )
        )
        .where(tile.media_id == m.id, tile.kind.in_(TILE_KINDS))
        .scalar_subquery()
    )
    return (
        *(getattr(m, name) for name in SUMMARY_COLUMNS),
        counts_only.label("analysis"),
        Derivative.bucket.label("thumbnail_bucket"),
        Derivative.object_name.label("thumbnail_object_name"),
        tiles.label("tiles"),
    )


@dataclass(frozen=True)
class Filters:
    """What a gallery page is filtered by (None: any)."""

    device_id: str | None = None
    camera_id: str | None = None
    kind: str | None = None
    media_type: str | None = None
    status: str | None = None
    label: str | None = None
    object_label: str | None = None
    captured_after: datetime | None = None
    captured_before: datetime | None = None
    parent_id: str | None = None

    def fingerprint(self) -> str:
        """16 hex characters naming these filters (times in UTC ISO form)."""
        return fingerprint_of(asdict(self))


_EQUAL_FILTERS = ("device_id", "camera_id", "kind", "media_type", "status", "parent_id")


def filtered(query: Select[Any], filters: tuple[str, ...]) -> Select[Any]:
    """`query` narrowed by the named filters, each compared with a bound parameter of its name
    (`bound_filters` gives the values); deleted media are left out unless `status` is named."""
    from sqlalchemy import bindparam

    from common.db.models import MediaObject

    for name in filters:
        if name in _EQUAL_FILTERS:
            query = query.where(getattr(MediaObject, name) == bindparam(name))
    if "status" not in filters:
        query = query.where(MediaObject.status.not_in([s.value for s in GONE_STATUSES]))
    if "label" in filters:
        labels = MediaObject.labels
        query = query.where(labels.contains(bindparam("label", type_=labels.type)))
    if "object_label" in filters:
        found = MediaObject.object_labels
        query = query.where(found.contains(bindparam("object_label", type_=found.type)))
    captured_at = MediaObject.captured_at
    if "captured_after" in filters:
        query = query.where(captured_at >= bindparam("captured_after", type_=captured_at.type))
    if "captured_before" in filters:
        query = query.where(captured_at < bindparam("captured_before", type_=captured_at.type))
    return query


def bound_filters(filters: Filters) -> dict[str, Any]:
    """The values `filtered` binds, by name, for the filters that are set."""
    values = {k: v for k, v in asdict(filters).items() if v is not None}
    for name in ("label", "object_label"):  # JSONB containment: a one-element array
        if name in values:
            values[name] = [values[name]]
    return values


@lru_cache(maxsize=256)
def _page_statement(
    owner: Literal["devices", "user", "any"], filters: tuple[str, ...], after: bool
) -> Select[Any]:
    """The statement of every page of one shape: who owns the devices, which filters are set,
    whether a cursor is; the values are bound at execution, so SQLAlchemy builds, caches and
    compiles it once per shape instead of once per request.

    It selects the JSON array of the page's tiles (module docstring).
    """
    from sqlalchemy import Integer, bindparam, func, select, true, tuple_
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    from common.db.models import Derivative, DeviceOwner, MediaObject

    m = MediaObject
    rows = bindparam("rows", type_=Integer)
    thumbnail = (Derivative.media_id == m.id) & (Derivative.kind == "thumbnail")
    query = select(*tile_columns()).outerjoin(Derivative, thumbnail)
    owned = None
    if owner == "devices":
        query = query.where(m.device_id.in_(bindparam("device_ids", expanding=True)))
    elif owner == "user":
        owned = (
            select(DeviceOwner.device_id)
            .where(DeviceOwner.user_id == bindparam("user_id"))
            .subquery("owned")
        )
        query = query.where(m.device_id == owned.c.device_id)
    query = filtered(query, filters)
    if after:
        key = tuple_(
            bindparam("after_time", type_=m.captured_at.type),
            bindparam("after_id", type_=m.id.type),
        )
        query = query.where(tuple_(m.captured_at, m.id) < key)
    query = query.order_by(m.captured_at.desc(), m.id.desc()).limit(rows)
    if owned is not None:
        # The newest rows of each owned device (an index range scan each), then the newest of
        # those: a page reads at most devices x rows rows, however many media the devices hold.
        per_device = query.lateral("per_device")
        query = (
            select(per_device)
            .select_from(owned)
            .join(per_device, true())
            .order_by(per_device.c.captured_at.desc(), per_device.c.id.desc())
            .limit(rows)
        )
    tile = query.subquery("tile")
    in_order = aggregate_order_by(tile.table_valued(), tile.c.captured_at.desc(), tile.c.id.desc())
    return select(func.json_agg(in_order))


_TIMES = ("captured_at", "created_at", "updated_at")


def _tile(element: dict[str, Any]) -> MediaTile:
    """A `MediaTile` from its JSON form (times are ISO 8601 text there)."""
    for name in _TIMES:
        element[name] = datetime.fromisoformat(element[name])
    return element


@dataclass(frozen=True)
class GalleryPage:
    """One page and the cursor of the next (None on the last page)."""

    items: list[MediaTile]
    next_cursor: str | None


def gallery_page(
    session: Session,
    *,
    device_ids: list[str] | None,
    user_id: str | None,
    filters: Filters,
    limit: int,
    cursor: str | None,
) -> GalleryPage:
    """One page of the media of the given devices (or of every device a user owns).

    Args:
        session: the unit of work.
        device_ids: exactly these devices (a device token: its own; an admin: None and no user).
        user_id: the user whose owned devices are listed (when `device_ids` is None).
        filters: see `Filters`.
        limit: page size.
        cursor: `next_cursor` of the previous page with the same filters.

    Raises:
        ValidationError: a bad or foreign cursor.
    """
    params: dict[str, Any] = {"rows": limit + 1}
    owner: Literal["devices", "user", "any"] = "any"
    if device_ids is not None:
        owner, params["device_ids"] = "devices", device_ids
    elif user_id is not None:
        owner, params["user_id"] = "user", user_id
    set_filters = bound_filters(filters)
    params.update(set_filters)
    if cursor:
        params["after_time"], params["after_id"] = decode_cursor(cursor, filters)
    statement = _page_statement(owner, tuple(sorted(set_filters)), bool(cursor))
    found: list[dict[str, Any]] = session.execute(statement, params).scalar() or []
    rows = [_tile(found_tile) for found_tile in found]
    page = rows[:limit]
    more = len(rows) > limit and page
    return GalleryPage(
        page, encode_cursor(page[-1]["captured_at"], page[-1]["id"], filters) if more else None
    )
