"""Editing what people set on a media (labels, note, pin), guarded by its revision.

Every edit increments `revision`; the API's ETag is made from it, so an edit sent with a stale
`If-Match` is refused instead of silently overwriting someone else's change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.core.errors import Gone, PreconditionFailed
from common.core.status import GONE_STATUSES, MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject

EDITABLE = frozenset({"labels", "note", "pinned"})


def edit_media(
    session: Session, media_id: str, changes: dict[str, Any], *, expected_revision: int | None
) -> MediaObject:
    """Apply `changes` (of `EDITABLE` columns) if the media is still at `expected_revision`, in
    the caller's transaction (the row stays locked until it commits).

    Args:
        session: the caller's unit of work.
        media_id: the media.
        changes: column -> new value.
        expected_revision: the revision the editor saw (None: any, for `If-Match: *`).

    Returns:
        The row after the edit (its `revision` incremented when anything changed).

    Raises:
        NotFound: no such media.
        Gone: the media is deleted (410).
        PreconditionFailed: someone edited it since (412 `precondition_failed`).
    """
    from common.db.repo import get_media

    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    media = get_media(session, media_id, lock=True)
    if MediaStatus(media.status) in GONE_STATUSES:
        raise Gone(f"media {media_id} is deleted", code="media_deleted")
    if expected_revision is not None and media.revision != expected_revision:
        raise PreconditionFailed(
            "the media changed since it was read; read it again and retry",
            details={"revision": media.revision},
        )
    if any(getattr(media, name) != value for name, value in changes.items()):
        for name, value in changes.items():
            setattr(media, name, value)
        media.revision += 1
        session.flush()
    return media
