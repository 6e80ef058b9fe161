"""A job's result as a media object of its own: cut, store, record, analyse.

Used by `common.job_worker` under the job's lock. The result (a clip, video/mp4, or a snapshot,
image/jpeg) is a new media row with `kind` = the job kind and `parent_id` = the source, stored in
the derivatives bucket at `<job_id>/clip.mp4` or `<job_id>/snapshot.jpg`, with its size, SHA-256,
MD5 and sampling id measured here (`common.hashing`), device and camera of the source, message id
= the job id, and `captured_at` = the source's plus the result's offset into it. It is inserted at
`verified` (history reason "created by job <id>"), then analysed by the same
`common.processing_service.process_local_file` as uploads.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from common.db.models import JobKind
from common.errors import NotFound, PermanentMediaError, TransientError
from common.settings import get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from common.db.models import Job, MediaObject

log = logging.getLogger(__name__)

RESULT_MIME = {JobKind.CLIP: "video/mp4", JobKind.SNAPSHOT: "image/jpeg"}


def derived_object_name(job_id: str, kind: JobKind) -> str:
    """Deterministic object name of a job's result in the derivatives bucket."""
    return f"{job_id}/clip.mp4" if kind is JobKind.CLIP else f"{job_id}/snapshot.jpg"


def run_operation(
    kind: JobKind,
    params: dict[str, Any],
    source: Path,
    target: Path,
    on_progress: Callable[[float], None],
) -> dict[str, Any]:
    """Cut the clip or snapshot `params` asks for from `source` into `target`.

    Returns:
        What the job result records: for a clip `{path, path_reason, start_ms, duration_ms,
        frames, frames_decoded, packets, width, height, has_audio, offset_ms}` (`path` is
        "stream_copy" or "reencode"); for a snapshot `{time_ms, width, height, frames_decoded,
        offset_ms}`. `offset_ms` is where the result starts in the source.

    Raises:
        PermanentMediaError: the source does not decode.
    """
    settings = get_settings()
    if kind is JobKind.CLIP:
        from common.processing.clip import extract_clip

        clip = extract_clip(
            source,
            target,
            start_ms=params["start_ms"],
            duration_ms=params["duration_ms"],
            tolerance_ms=settings.clip_copy_tolerance_ms,
            on_progress=on_progress,
        )
        return {
            "path": clip.path,
            "path_reason": clip.reason,
            "start_ms": clip.start_ms,
            "duration_ms": clip.duration_ms,
            "frames": clip.frames,
            "frames_decoded": clip.frames_decoded,
            "packets": clip.packets,
            "width": clip.width,
            "height": clip.height,
            "has_audio": clip.has_audio,
            "offset_ms": clip.start_ms,
        }
    from common.processing.snapshot import extract_snapshot

    snapshot = extract_snapshot(source, at_ms=params["at_ms"], on_progress=on_progress)
    target.write_bytes(snapshot.data)
    return {
        "time_ms": snapshot.time_ms,
        "width": snapshot.width,
        "height": snapshot.height,
        "frames_decoded": snapshot.frames_decoded,
        "offset_ms": snapshot.time_ms,
    }


def write_new_object(bucket: str, object_name: str, data: bytes, content_type: str) -> int | None:
    """Create an object only if none exists (`if_generation_match=0`).

    Returns:
        The new generation, or None when an object of that name already exists.

    Raises:
        TransientError: any other storage failure.
    """
    from google.api_core import exceptions as gexc

    from common.storage import blob_at

    blob = blob_at(bucket, object_name)
    try:
        blob.upload_from_string(data, content_type=content_type, if_generation_match=0)
    except gexc.PreconditionFailed:
        return None
    except Exception as exc:
        raise TransientError(f"storage error writing gs://{bucket}/{object_name}: {exc}") from exc
    return int(blob.generation or 0)


def _store(bucket: str, object_name: str, data: bytes, content_type: str) -> int:
    """Write the result; an object left by a crashed attempt (no row names it) is replaced."""
    from common.storage import blob_at

    generation = write_new_object(bucket, object_name, data, content_type)
    if generation is not None:
        return generation
    blob = blob_at(bucket, object_name)
    try:
        blob.reload()
        blob.upload_from_string(
            data, content_type=content_type, if_generation_match=blob.generation
        )
    except Exception as exc:
        raise TransientError(f"storage error replacing gs://{bucket}/{object_name}: {exc}") from exc
    return int(blob.generation or 0)


def record_result(job: Job, source: MediaObject, path: Path, details: dict[str, Any]) -> str:
    """Store the result's bytes and insert its media row at `verified`, recorded on the job.

    Returns:
        The result's media id (an existing row's, if one already names the object).

    Raises:
        TransientError: storage, database or Firestore trouble.
    """
    from sqlalchemy import select, update
    from sqlalchemy.dialects.postgresql import insert

    from common.db.engine import session_scope
    from common.db.models import Job, MediaObject, StatusHistory
    from common.hashing import sampling_id_of_bytes
    from common.ids import MEDIA_PREFIX, new_id
    from common.mirror import write_media_status
    from common.storage import gs_uri

    kind = JobKind(job.kind)
    bucket = get_settings().derivatives_bucket
    object_name = derived_object_name(job.id, kind)
    with session_scope() as session:
        existing = session.execute(
            select(MediaObject.id).where(
                MediaObject.bucket == bucket, MediaObject.object_name == object_name
            )
        ).scalar_one_or_none()
    if existing is None:
        data = path.read_bytes()  # bounded: at most max_clip_duration_ms of video
        mime_type = RESULT_MIME[kind]
        generation = _store(bucket, object_name, data, mime_type)
        sha256 = hashlib.sha256(data).hexdigest()
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - GCS MD5
        values = {
            "id": new_id(MEDIA_PREFIX),
            "device_id": source.device_id,
            "camera_id": source.camera_id,
            "message_id": job.id,
            "captured_at": source.captured_at + timedelta(milliseconds=details["offset_ms"]),
            "reason": source.reason,
            "media_type": mime_type.split("/", 1)[0],
            "mime_type": mime_type,
            "kind": kind.value,
            "parent_id": source.id,
            "size_bytes": len(data),
            "sha256": sha256,
            "md5": md5,
            "request_hash": hashlib.sha256(f"{job.id}:{job.params_key}".encode()).hexdigest(),
            "verified_sha256": sha256,
            "verified_md5": md5,
            "actual_size_bytes": len(data),
            "sampling_id": sampling_id_of_bytes(data),
            "bucket": bucket,
            "object_name": object_name,
            "generation": generation,
            "gcs_uri": gs_uri(bucket, object_name),
            "status": MediaStatus.VERIFIED.value,
            "created_by": f"job:{job.id}",
        }
    with session_scope() as session:
        if existing is None:
            inserted = session.execute(
                insert(MediaObject)
                .values(**values)
                .on_conflict_do_nothing(constraint="uq_media_objects_bucket_object")
                .returning(MediaObject.id)
            ).scalar_one_or_none()
            if inserted is not None:
                session.add(
                    StatusHistory(
                        media_id=inserted,
                        from_status=None,
                        to_status=MediaStatus.VERIFIED.value,
                        reason=f"created by job {job.id}",
                        generation=generation,
                    )
                )
        row = session.execute(
            select(MediaObject).where(
                MediaObject.bucket == bucket, MediaObject.object_name == object_name
            )
        ).scalar_one()
        session.execute(
            update(Job).where(Job.id == job.id).values(result_media_id=row.id, result=details)
        )
    write_media_status(row.id, status=row.status, reason=None, device_id=row.device_id)
    log.info("job %s: result media %s at gs://%s/%s", job.id, row.id, bucket, object_name)
    return row.id


def analyse_result(
    media_id: str,
    local_path: str | None,
    event_id: str,
    on_progress: Callable[[float], None],
) -> str | None:
    """Bring the result media to `processed` with renditions and detections.

    Args:
        media_id: the result media.
        local_path: its bytes on local disk, or None to download its pinned generation.
        event_id: the job message id, for the status history.
        on_progress: analysis progress (0..1).

    Returns:
        None when the media is processed; otherwise why it is not (it ended `failed`).

    Raises:
        TransientError: storage, database or Firestore trouble.
    """
    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.lifecycle import transition
    from common.processing_service import ProcessOutcome, process_local_file
    from common.storage import download_to_path

    with session_scope() as session:
        media = session.get(MediaObject, media_id)
    if media is None:
        raise NotFound(f"result media {media_id} not found")
    status = MediaStatus(media.status)
    if status is MediaStatus.VERIFIED:
        transition(media_id, MediaStatus.PROCESSING, event_id=event_id)
    elif status is not MediaStatus.PROCESSING:
        if status is MediaStatus.PROCESSED:
            return None
        return f"result media {media_id} is {status.value}: {media.status_reason}"
    path = local_path
    if path is None:
        handle, path = tempfile.mkstemp(
            prefix="job-res-", suffix="." + media.object_name.rsplit(".")[-1]
        )
        os.close(handle)
    try:
        if local_path is None:
            try:
                download_to_path(media.bucket, media.object_name, media.generation, path)
            except NotFound as exc:
                raise PermanentMediaError(f"result object gone: {exc}") from exc
        outcome = process_local_file(media, path, event_id=event_id, on_progress=on_progress)
    finally:
        if local_path is None:
            os.unlink(path)
    if outcome is ProcessOutcome.FAILED:
        with session_scope() as session:
            reason = session.get(MediaObject, media_id).status_reason  # type: ignore[union-attr]
        return f"result media {media_id} failed processing: {reason}"
    return None
