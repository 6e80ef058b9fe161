"""Writing renditions: the bytes to the derivatives bucket under their `layout` name first
(`store_derivatives`), then their rows in the caller's transaction (`save_derivative_rows`),
upserted on (media, kind) under a lock on the media row, so a rendition made again (a redelivery)
replaces the earlier one and a media deleted meanwhile keeps none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.core.settings import get_settings
from common.storage import get_store, layout

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class NewDerivative:
    """A rendition to store: bytes in memory (`data`) or in a local file (`path`).

    Attributes:
        kind: one of `common.core.status.DERIVATIVE_KINDS`.
        mime_type: its MIME type (it names the object's extension).
        width_px: width in pixels.
        height_px: height in pixels.
        data: the bytes, or None when `path` holds them.
        path: a local file with the bytes, or None.
        details: facts of its own, stored with the row (a storyboard's time index).
    """

    kind: str
    mime_type: str
    width_px: int
    height_px: int
    data: bytes | None = None
    path: Path | None = None
    details: dict[str, Any] | None = None


def _store(media_id: str, item: NewDerivative) -> dict[str, Any]:
    store = get_store()
    bucket = get_settings().derivatives_bucket
    name = layout.derivative_object_name(media_id, item.kind, item.mime_type)
    if item.path is not None:
        info = store.write_file(bucket, name, item.path, item.mime_type)
        size = info.size_bytes
    else:
        data = item.data or b""
        store.write(bucket, name, data, item.mime_type)
        size = len(data)
    return {
        "media_id": media_id,
        "kind": item.kind,
        "bucket": bucket,
        "object_name": name,
        "width_px": item.width_px,
        "height_px": item.height_px,
        "mime_type": item.mime_type,
        "size_bytes": size,
        "details": item.details,
    }


def store_derivatives(media_id: str, items: list[NewDerivative]) -> list[dict[str, Any]]:
    """Write `items`' bytes to the derivatives bucket (no database work: nothing is locked
    while they are made and written).

    Returns:
        Their rows, for `save_derivative_rows` in the caller's transaction.

    Raises:
        StorageUnavailable: storage trouble (retry: the names are the same on a second attempt).
    """
    return [_store(media_id, item) for item in items]


def save_derivative_rows(session: Session, media_id: str, rows: list[dict[str, Any]]) -> None:
    """Upsert rendition rows on (media, kind) in the caller's transaction, under a lock on the
    media row (taken here if the caller has not already).

    Raises:
        MediaGone: the media was deleted meanwhile (the caller removes the objects:
            `remove_stored`).
    """
    from sqlalchemy.dialects.postgresql import insert

    from common.core.status import GONE_STATUSES, MediaStatus
    from common.db.models import Derivative, MediaObject
    from common.media.analysis_store import MediaGone

    media = session.get(MediaObject, media_id, with_for_update=True)
    if media is None or MediaStatus(media.status) in GONE_STATUSES:
        raise MediaGone(media_id)
    for row in rows:
        statement = insert(Derivative).values(**row)
        session.execute(
            statement.on_conflict_do_update(
                constraint="uq_derivatives_media_kind",
                set_={k: statement.excluded[k] for k in row if k not in ("media_id", "kind")},
            )
        )


def remove_stored(rows: list[dict[str, Any]]) -> None:
    """Delete the objects of rows whose media went away before they were saved."""
    store = get_store()
    for row in rows:
        store.delete(row["bucket"], row["object_name"])
