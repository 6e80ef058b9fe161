"""Realtime status mirror: Firestore documents for UIs that listen for changes.

Postgres is the source of truth; the mirror is written after each committed transition and on every
no-op redelivery, so a mirror write that failed once is repaired by the retry it causes.

- `media/{id}`: `{status, reason_code, reason, progress, device_id, updated_at, seq}`; `progress`
  is 0..1 while processing. Written by `common.media.lifecycle` on every status change. While
  processing makes a rendition of its own (a video's playable version), `step` names it
  ("playback") and `step_progress` (0..1) is its progress (`write_media_step`).
- `jobs/{job_id}`: `{job_id, status, progress, kind, media_id, device_id, result_media_id,
  error_code, error, updated_at, seq}`, written by `common.media.job_lifecycle` only (with every
  job status change, and the worker's progress);
  an event stream opened before the worker's first write starts from the job row in Postgres.

Every write increments the document's `seq` field (`firestore.Increment(1)`) in the same write, so
each version of a document carries a strictly increasing sequence number: the Server-Sent Events
stream (`common.api.sse`) uses it as the event id that `Last-Event-ID` resumes from. Writes merge
(`set(..., merge=True)`) and never rely on replacing a document (the emulator merges anyway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from common.core.errors import TransientError
from common.core.settings import get_settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client

    from common.core.reasons import Reason

log = logging.getLogger(__name__)

MEDIA_COLLECTION = "media"
JOBS_COLLECTION = "jobs"


@cache
def get_firestore() -> Client:
    """Return the process-wide Firestore client (built on first use)."""
    from google.cloud import firestore

    settings = get_settings()
    return firestore.Client(project=settings.gcp_project, database=settings.firestore_database)


def clamp_progress(progress: float) -> float:
    """Progress as stored: clamped to 0..1 and rounded to 4 decimals."""
    return round(min(max(progress, 0.0), 1.0), 4)


def write_document(collection: str, document_id: str, fields: dict[str, Any]) -> None:
    """Merge `fields` into `collection/document_id`, stamping `updated_at` and bumping `seq`.

    Does nothing when `STATUS_MIRROR_ENABLED` is false.

    Raises:
        TransientError: if Firestore is unreachable (the caller's retry repairs the mirror).
    """
    if not get_settings().status_mirror_enabled:
        return
    from google.cloud import firestore

    from common.core.calls import record

    record("firestore", "write", collection)
    payload = {**fields, "updated_at": firestore.SERVER_TIMESTAMP, "seq": firestore.Increment(1)}
    try:
        get_firestore().collection(collection).document(document_id).set(payload, merge=True)
    except Exception as exc:
        raise TransientError(
            f"mirror write failed for {collection}/{document_id}: {exc.__class__.__name__}"
        ) from exc


def delete_document(collection: str, document_id: str) -> None:
    """Delete `collection/document_id` (absent is fine). Listeners see it disappear.

    Raises:
        TransientError: if Firestore is unreachable.
    """
    if not get_settings().status_mirror_enabled:
        return
    from common.core.calls import record

    record("firestore", "write", collection)
    try:
        get_firestore().collection(collection).document(document_id).delete()
    except Exception as exc:
        raise TransientError(
            f"mirror delete failed for {collection}/{document_id}: {exc.__class__.__name__}"
        ) from exc


def write_media_status(
    media_id: str,
    *,
    status: str,
    reason: Reason | None,
    device_id: str,
    progress: float | None = None,
) -> None:
    """Write the status of one media object to `media/{media_id}` (merge, `seq` + 1).

    Raises:
        TransientError: if Firestore is unreachable (the caller's retry repairs the mirror).
    """
    fields: dict[str, Any] = {
        "status": status,
        "reason_code": reason.code if reason else None,
        "reason": reason.message if reason else None,
        "device_id": device_id,
    }
    if progress is not None:
        fields["progress"] = clamp_progress(progress)
    write_document(MEDIA_COLLECTION, media_id, fields)


def write_media_step(media_id: str, *, device_id: str, step: str, fraction: float) -> None:
    """Write the progress of one processing step (`step`, `step_progress`) to `media/{media_id}`.

    Raises:
        TransientError: if Firestore is unreachable.
    """
    fields = {
        "status": "processing",
        "device_id": device_id,
        "step": step,
        "step_progress": clamp_progress(fraction),
    }
    write_document(MEDIA_COLLECTION, media_id, fields)


class ThrottledProgress:
    """Calls `write(fraction)` at most once per `min_interval_seconds`, plus always at 1.0.

    Write failures (TransientError) are logged, never raised: progress is advisory, status is not.
    """

    def __init__(self, write: Callable[[float], None], min_interval_seconds: float = 0.5) -> None:
        self._write = write
        self._interval = min_interval_seconds
        self._last_write = float("-inf")

    def __call__(self, fraction: float) -> None:
        """Report progress `fraction` in 0..1."""
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < self._interval:
            return
        self._last_write = now
        try:
            self._write(fraction)
        except TransientError:
            log.warning("progress write failed", exc_info=True)


class ProgressReporter(ThrottledProgress):
    """Throttled `processing` progress of one media object, written to `media/{media_id}`."""

    def __init__(self, media_id: str, device_id: str, min_interval_seconds: float = 0.5) -> None:
        def write(fraction: float) -> None:
            write_media_status(
                media_id, status="processing", reason=None, device_id=device_id, progress=fraction
            )

        super().__init__(write, min_interval_seconds)


class StepProgressReporter(ThrottledProgress):
    """Throttled progress of one processing step of a media object (`write_media_step`)."""

    def __init__(
        self, media_id: str, device_id: str, step: str, min_interval_seconds: float = 0.5
    ) -> None:
        def write(fraction: float) -> None:
            write_media_step(media_id, device_id=device_id, step=step, fraction=fraction)

        super().__init__(write, min_interval_seconds)
