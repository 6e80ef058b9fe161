"""Analysis of verified media: renditions and detections, then `processed`.

`process_media()` claims the media (`common.db.claims`, so concurrent deliveries do the work
once), moves it `verified -> processing`, takes a local copy of its verified version, analyses it
with `common.processing` (image or video), writes the renditions to the derivatives bucket,
replaces the media's detections and derivatives in one transaction, then `processing ->
processed`. Undecodable media ends `failed` with reason `undecodable` (the decoder's own words go
to the log) and the message is acknowledged; storage or database trouble raises TransientError
and the message is redelivered. A redelivery after a crash midway finds `processing` and an
expired claim, and redoes the work: renditions overwrite the same object names and detections are
replaced, so no duplicates appear.

Media made by jobs (clips, snapshots) come through the same function (`common.jobs.worker`), with
their bytes already on local disk.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.errors import (
    BadRequest,
    MediaTooLarge,
    NotFound,
    PermanentMediaError,
    TransientError,
)
from common.core.ids import MEDIA_PREFIX, is_valid_id
from common.core.settings import get_settings
from common.core.status import BEFORE_VERIFICATION, MediaStatus
from common.db.claims import claimed
from common.db.repo import get_media
from common.media import lifecycle
from common.storage import get_store
from common.storage.base import ObjectNotFound
from common.storage.tempfiles import local_copy

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from common.db.models import MediaObject
    from common.events.envelope import PubSubMessage
    from common.processing import ImageAnalysis, VideoAnalysis

log = logging.getLogger(__name__)


class ProcessOutcome(StrEnum):
    """What handling one `media-verified` message (or a job's result) amounted to."""

    PROCESSED = "processed"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"
    GONE = "gone"
    UNKNOWN_MEDIA = "unknown_media"


def _analyse(
    session: Session, media: MediaObject, path: Path, on_progress: Callable[[float], None] | None
) -> ImageAnalysis | VideoAnalysis:
    from common.media.detection_config import config_for
    from common.media.mirror import ProgressReporter
    from common.processing import analyze_image, analyze_video

    config = config_for(session, media.device_id, media.camera_id)
    session.commit()  # nothing held while the analysis runs
    if media.media_type == "image":
        return analyze_image(path, config)
    reporter = ProgressReporter(media.id, media.device_id)

    def report(fraction: float) -> None:
        reporter(fraction)
        if on_progress is not None:
            on_progress(fraction)

    return analyze_video(path, config, on_progress=report)


def _failure_reason(media: MediaObject, exc: PermanentMediaError) -> reasons.Reason:
    """The reason a media that analysis refused ends `failed` with: `too_large` (with its size
    when the decoder read it) or `undecodable`."""
    if isinstance(exc, MediaTooLarge):
        size = exc.details or {}
        known = f" ({size['width']} x {size['height']} pixels)" if "width" in size else ""
        return reasons.reason(
            reasons.TOO_LARGE, f"The {media.media_type} is larger than analysis decodes{known}."
        )
    return reasons.reason(
        reasons.UNDECODABLE, f"The bytes could not be decoded as {media.media_type}."
    )


def _analyse_and_store(
    session: Session,
    media: MediaObject,
    path: Path,
    event_id: str | None,
    on_progress: Callable[[float], None] | None,
) -> ProcessOutcome:
    from common.media.analysis_store import MediaGone, store_analysis
    from common.media.derivatives import remove_stored, save_derivative_rows
    from common.media.renditions import add_renditions

    try:
        analysis = _analyse(session, media, path, on_progress)
        # renditions for screens (a playable video can take minutes): stored before any row of
        # the media is locked, their rows written with the analysis's
        rows, summary = add_renditions(media, path, analysis)
        try:
            fields = store_analysis(session, media, analysis)
            save_derivative_rows(session, media.id, rows)
        except MediaGone:
            remove_stored(rows)
            raise
        fields["analysis"].update(summary)
    except MediaGone:
        log.info("media %s was deleted while it was analysed", media.id)
        return ProcessOutcome.GONE
    except PermanentMediaError as exc:
        why = _failure_reason(media, exc)
        lifecycle.transition(session, media.id, MediaStatus.FAILED, reason=why, event_id=event_id)
        session.commit()
        log.warning("media %s failed: %s", media.id, exc.message)
        return ProcessOutcome.FAILED
    lifecycle.transition(session, media.id, MediaStatus.PROCESSED, event_id=event_id, fields=fields)
    session.commit()
    log.info(
        "media %s processed: %s (%d boxes) by %s",
        media.id,
        analysis.summary or "nothing found",
        len(analysis.detections),
        ", ".join(analysis.detectors),
    )
    return ProcessOutcome.PROCESSED


def process_media(
    session: Session,
    media_id: str,
    *,
    event_id: str | None,
    local_path: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> ProcessOutcome:
    """Analyse a verified media (see the module docstring). Safe to call any number of times.

    Args:
        session: the caller's unit of work (committed at each step).
        media_id: the media.
        event_id: the message that caused the work, for the history.
        local_path: its bytes on local disk, when the caller has them (else downloaded).
        on_progress: also told the analysis progress (0..1), besides `media/{id}` in Firestore.

    Returns:
        The outcome.

    Raises:
        TransientError: the media is not verified yet, or storage, database or Firestore is
            unavailable (retry).
    """
    try:
        media = get_media(session, media_id)
    except NotFound:
        log.warning("media %s is unknown", media_id)
        return ProcessOutcome.UNKNOWN_MEDIA
    status = MediaStatus(media.status)
    if status in BEFORE_VERIFICATION:
        raise TransientError(f"media {media_id} is {status.value}, not verified yet")
    if status not in (MediaStatus.VERIFIED, MediaStatus.PROCESSING):
        lifecycle.mirror(media)  # no-op; re-syncs the mirror
        return ProcessOutcome.DUPLICATE
    with claimed(f"process:{media_id}", get_settings().process_claim_ttl_seconds) as claim:
        if claim is None:
            log.info("media %s is being processed elsewhere", media_id)
            return ProcessOutcome.IN_PROGRESS
        media = get_media(session, media_id)
        if media.status == MediaStatus.VERIFIED.value:
            lifecycle.transition(session, media_id, MediaStatus.PROCESSING, event_id=event_id)
            session.commit()
        elif media.status != MediaStatus.PROCESSING.value:
            return ProcessOutcome.DUPLICATE
        if local_path is not None:
            return _analyse_and_store(session, media, local_path, event_id, on_progress)
        try:
            with local_copy(
                get_store(), media.bucket, media.object_name, media.object_version
            ) as path:
                return _analyse_and_store(session, media, path, event_id, on_progress)
        except ObjectNotFound:
            lifecycle.transition(
                session,
                media_id,
                MediaStatus.FAILED,
                reason=reasons.reason(reasons.OBJECT_GONE),
                event_id=event_id,
            )
            session.commit()
            log.warning("media %s failed: its object version is gone", media_id)
            return ProcessOutcome.FAILED


def handle_media_verified(message: PubSubMessage) -> ProcessOutcome:
    """process_media: analyse the media a `media-verified` message names.

    Message data: JSON `{"media_id", "bucket", "object_name", "version"}`.

    Raises:
        BadRequest: the message names no valid media id (poison: acknowledged).
        TransientError: see `process_media` (retry).
    """
    payload = message.json()
    media_id = payload.get("media_id") if isinstance(payload, dict) else None
    if not isinstance(media_id, str) or not is_valid_id(media_id, MEDIA_PREFIX):
        raise BadRequest("media-verified message has no valid media_id")
    from common.db.engine import session_scope

    with session_scope() as session:
        return process_media(session, media_id, event_id=message.message_id)
