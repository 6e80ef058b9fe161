"""process_media's logic for `media-verified` messages: analyse, store renditions and detections.

`verified -> processing`, download the pinned generation to a temporary file, then
`process_local_file`: analyse it with `common.processing` (image or video), write thumbnail /
poster to the derivatives bucket, replace the media's detections and derivatives in one
transaction, then `processing -> processed`. Undecodable media ends `failed` with the reason and
the message is acknowledged; storage or database trouble raises TransientError and the message is
redelivered. A redelivery after a crash midway finds `processing` and redoes the work: renditions
overwrite the same object names and detections are replaced, so no duplicates appear.

`process_local_file` is also how media made by a job (clips, snapshots; `common.job_worker`) get
their renditions and detections: one code path for every media row with bytes on local disk.
"""

from __future__ import annotations

import logging
import os
import tempfile
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from common.errors import BadRequest, NotFound, PermanentMediaError, TransientError
from common.events import PubSubMessage
from common.lifecycle import transition
from common.settings import get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from common.db.models import MediaObject
    from common.processing import ImageAnalysis, VideoAnalysis

log = logging.getLogger(__name__)


class ProcessOutcome(StrEnum):
    """What handling one `media-verified` message amounted to."""

    PROCESSED = "processed"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    UNKNOWN_MEDIA = "unknown_media"


def derivative_object_name(media_id: str, kind: str) -> str:
    """Object name of a rendition in the derivatives bucket: `<media_id>/<kind>.jpg`."""
    return f"{media_id}/{kind}.jpg"


def _load(media_id: str) -> MediaObject | None:
    from common.db.engine import session_scope
    from common.db.models import MediaObject

    with session_scope() as session:
        return session.get(MediaObject, media_id)


def _analyse(
    media: MediaObject, path: str, on_progress: Callable[[float], None] | None
) -> ImageAnalysis | VideoAnalysis:
    from pathlib import Path

    from common.mirror import ProgressReporter
    from common.processing import analyze_image, analyze_video

    settings = get_settings()
    if media.media_type == "image":
        return analyze_image(
            Path(path),
            thumbnail_max_px=settings.thumbnail_max_px,
            min_score=settings.detection_min_score,
        )
    return analyze_video(
        Path(path),
        sample_interval_ms=settings.video_sample_interval_ms,
        max_frames=settings.video_max_sampled_frames,
        thumbnail_max_px=settings.thumbnail_max_px,
        min_score=settings.detection_min_score,
        on_progress=_both(ProgressReporter(media.id, media.device_id), on_progress),
    )


def _both(
    first: Callable[[float], None], second: Callable[[float], None] | None
) -> Callable[[float], None]:
    if second is None:
        return first

    def report(fraction: float) -> None:
        first(fraction)
        second(fraction)

    return report


def _store(media_id: str, analysis: ImageAnalysis | VideoAnalysis) -> dict[str, Any]:
    from sqlalchemy import delete
    from sqlalchemy.dialects.postgresql import insert

    from common.db.engine import session_scope
    from common.db.models import Derivative, Detection, MediaObject
    from common.storage import upload_bytes

    bucket = get_settings().derivatives_bucket
    rows = []
    for rendition in analysis.renditions:
        name = derivative_object_name(media_id, rendition.kind)
        upload_bytes(bucket, name, rendition.data, rendition.mime_type)
        rows.append(
            {
                "media_id": media_id,
                "kind": rendition.kind,
                "bucket": bucket,
                "object_name": name,
                "width_px": rendition.width,
                "height_px": rendition.height,
                "mime_type": rendition.mime_type,
                "size_bytes": len(rendition.data),
            }
        )
    with session_scope() as session:
        # Lock the media row: concurrent redeliveries replace detections one after the other, so
        # the last writer's set is the only one left.
        session.get(MediaObject, media_id, with_for_update=True)
        session.execute(delete(Detection).where(Detection.media_id == media_id))
        session.add_all(
            Detection(
                media_id=media_id,
                label=d.label,
                score=d.score,
                x=d.x,
                y=d.y,
                w=d.w,
                h=d.h,
                time_ms=d.time_ms,
                model=d.model,
            )
            for d in analysis.detections
        )
        for row in rows:
            statement = insert(Derivative).values(**row)
            session.execute(
                statement.on_conflict_do_update(
                    constraint="uq_derivatives_media_kind",
                    set_={k: statement.excluded[k] for k in row if k not in ("media_id", "kind")},
                )
            )
    from common.processing import VideoAnalysis

    fields: dict[str, Any] = {"width_px": analysis.width, "height_px": analysis.height}
    if isinstance(analysis, VideoAnalysis):
        fields.update(
            duration_ms=analysis.duration_ms, video_codec=analysis.codec, frame_rate=analysis.fps
        )
    return fields


def handle_media_verified(message: PubSubMessage) -> ProcessOutcome:
    """Process the media a `media-verified` message names. Safe to call any number of times.

    Message data: JSON `{"media_id", "bucket", "object_name", "generation"}`.

    Returns:
        The outcome (also logged).

    Raises:
        BadRequest: the message has no media_id (poison: acknowledged by the adapter).
        TransientError: storage/database unavailable, or the media is not verified yet (retry).
    """
    from common.storage import download_to_path

    payload = message.json()
    media_id = payload.get("media_id") if isinstance(payload, dict) else None
    if not isinstance(media_id, str):
        raise BadRequest("media-verified message has no media_id")
    media = _load(media_id)
    if media is None:
        log.warning("media-verified %s names unknown media %s", message.message_id, media_id)
        return ProcessOutcome.UNKNOWN_MEDIA
    status = MediaStatus(media.status)
    if status in (MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADED):
        raise TransientError(f"media {media_id} is {status.value}, not verified yet")
    if status not in (MediaStatus.VERIFIED, MediaStatus.PROCESSING):
        transition(media_id, status, event_id=message.message_id)  # no-op; re-syncs the mirror
        return ProcessOutcome.DUPLICATE
    if status is MediaStatus.VERIFIED:
        transition(media_id, MediaStatus.PROCESSING, event_id=message.message_id)
    handle, path = tempfile.mkstemp(prefix="media-", suffix="." + media.object_name.rsplit(".")[-1])
    os.close(handle)
    try:
        try:
            download_to_path(media.bucket, media.object_name, media.generation, path)
        except NotFound as exc:
            reason = f"object gone: {exc}"
            transition(media_id, MediaStatus.FAILED, reason=reason, event_id=message.message_id)
            log.warning("media %s failed: %s", media_id, reason)
            return ProcessOutcome.FAILED
        return process_local_file(media, path, event_id=message.message_id)
    finally:
        os.unlink(path)


def process_local_file(
    media: MediaObject,
    path: str,
    *,
    event_id: str | None,
    on_progress: Callable[[float], None] | None = None,
) -> ProcessOutcome:
    """Analyse a media row's bytes at `path`, store renditions + detections, move to `processed`.

    The caller has moved the row to `processing`. Safe to repeat: renditions overwrite the same
    object names and detections are replaced.

    Args:
        media: the media row (its `media_type` picks image or video analysis).
        path: a local copy of its bytes.
        event_id: the message that caused the work, recorded in the status history.
        on_progress: also told the analysis progress (0..1), besides `media/{id}` in Firestore.

    Returns:
        PROCESSED, or FAILED when the bytes do not decode (the row ends `failed` with the reason).

    Raises:
        TransientError: storage, database or Firestore unavailable.
    """
    try:
        analysis = _analyse(media, path, on_progress)
        fields = _store(media.id, analysis)
    except PermanentMediaError as exc:
        transition(media.id, MediaStatus.FAILED, reason=exc.message, event_id=event_id)
        log.warning("media %s failed: %s", media.id, exc.message)
        return ProcessOutcome.FAILED
    transition(media.id, MediaStatus.PROCESSED, event_id=event_id, fields=fields)
    log.info(
        "media %s processed: %d detections, %d renditions",
        media.id,
        len(analysis.detections),
        len(analysis.renditions),
    )
    return ProcessOutcome.PROCESSED
