"""Realtime status mirror: Firestore documents `media/{id}` for UIs that listen for changes.

Postgres is the source of truth; the mirror is written after each committed transition and on every
no-op redelivery, so a mirror write that failed once is repaired by the retry it causes. Documents hold
`{status, reason, progress, device_id, updated_at}`; `progress` is 0..1 while processing.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from common.errors import TransientError
from common.settings import get_settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client

log = logging.getLogger(__name__)

MEDIA_COLLECTION = "media"


@cache
def get_firestore() -> Client:
    """Return the process-wide Firestore client (built on first use)."""
    from google.cloud import firestore

    settings = get_settings()
    return firestore.Client(project=settings.gcp_project, database=settings.firestore_database)


def write_media_status(
    media_id: str,
    *,
    status: str,
    reason: str | None,
    device_id: str,
    progress: float | None = None,
) -> None:
    """Write the status of one media object to `media/{media_id}` (merge).

    Raises:
        TransientError: if Firestore is unreachable (the caller's retry repairs the mirror).
    """
    if not get_settings().status_mirror_enabled:
        return
    from google.cloud import firestore

    fields: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "device_id": device_id,
        "updated_at": firestore.SERVER_TIMESTAMP,
    }
    if progress is not None:
        fields["progress"] = round(min(max(progress, 0.0), 1.0), 4)
    try:
        get_firestore().collection(MEDIA_COLLECTION).document(media_id).set(fields, merge=True)
    except Exception as exc:
        raise TransientError(f"status mirror write failed for {media_id}: {exc}") from exc


class ProgressReporter:
    """Throttled progress writer: at most one write per `min_interval_seconds`, plus the last one.

    Progress write failures are logged, never raised: progress is advisory, status is not.
    """

    def __init__(self, media_id: str, device_id: str, min_interval_seconds: float = 0.5) -> None:
        self._media_id = media_id
        self._device_id = device_id
        self._interval = min_interval_seconds
        self._last_write = 0.0

    def __call__(self, fraction: float) -> None:
        """Report progress `fraction` in 0..1."""
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < self._interval:
            return
        self._last_write = now
        try:
            write_media_status(
                self._media_id,
                status="processing",
                reason=None,
                device_id=self._device_id,
                progress=fraction,
            )
        except TransientError:
            log.warning("progress write failed for %s", self._media_id, exc_info=True)
