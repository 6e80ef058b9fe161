"""A job's result as a media object of its own: cut, store, record, analyse.

Used by `common.job_worker`; every step is safe to repeat and to run twice at once. The result (a clip, video/mp4, or a snapshot,
image/jpeg) is a new media row with `kind` = the job kind and `parent_id` = the source, stored in
the derivatives bucket at `<job_id>/clip.mp4` or `<job_id>/snapshot.jpg`, with its size, SHA-256,
MD5 and sampling id measured here (`common.hashing`), device and camera of the source, message id
= the job id, and `captured_at` = the source's plus the result's offset into it. It is inserted at
`verified` (history reason "created by job <id>") with `ON CONFLICT (bucket, object_name) DO
NOTHING`, and recorded on the job in the same transaction; then analysed by the same
`common.processing_service.process_local_file` as uploads. The object is created with
`if_generation_match=0` and never replaced, and carries the cut's details (clip path, frame time)
as custom metadata, so an attempt that finds it (after a crash, or racing a duplicate delivery)
records exactly what was stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
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
DETAILS_METADATA_KEY = "job-result"
"""Custom metadata of a result object: the cut's details as JSON, for a retry that finds it."""


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


def write_new_object(
    bucket: str,
    object_name: str,
    data: bytes,
    content_type: str,
    metadata: dict[str, str] | None = None,
) -> int | None:
    """Create an object only if none exists (`if_generation_match=0`).

    Args:
        bucket: bucket name.
        object_name: object name.
        data: the bytes.
        content_type: the object's Content-Type.
        metadata: custom metadata to store with it.

    Returns:
        The new generation, or None when an object of that name already exists.

    Raises:
        TransientError: any other storage failure.
    """
    from google.api_core import exceptions as gexc

    from common.storage import blob_at

    blob = blob_at(bucket, object_name)
    if metadata:
        blob.metadata = metadata
    try:
        blob.upload_from_string(data, content_type=content_type, if_generation_match=0)
    except gexc.PreconditionFailed:
        return None
    except Exception as exc:
        raise TransientError(f"storage error writing gs://{bucket}/{object_name}: {exc}") from exc
    return int(blob.generation or 0)


def _stored_result(bucket: str, object_name: str) -> tuple[int, dict[str, Any] | None] | None:
    """The generation and recorded details of a result object an earlier attempt wrote."""
    from common.storage import get_client

    try:
        blob = get_client().bucket(bucket).get_blob(object_name)
    except Exception as exc:
        raise TransientError(f"storage error reading gs://{bucket}/{object_name}: {exc}") from exc
    if blob is None:
        return None
    raw = (blob.metadata or {}).get(DETAILS_METADATA_KEY)
    return int(blob.generation), json.loads(raw) if raw else None


def produce_result(
    job: Job, source: MediaObject, on_progress: Callable[[float], None]
) -> tuple[str, str | None]:
    """Find or make the job's result media (see the module docstring).

    In order: a media row already naming `<job_id>/<result>` is the result; else an object an
    earlier attempt wrote there is downloaded and recorded; else the source's pinned generation
    is downloaded and cut, the result is created with `if_generation_match=0` (losing that race to
    a concurrent attempt means using its object) and recorded.

    Returns:
        The result's media id, and a local copy of its bytes (None when the row already existed);
        the caller deletes the file.

    Raises:
        PermanentMediaError: the source is gone or does not decode.
        TransientError: storage, database or Firestore trouble.
    """
    from pathlib import Path

    from common.storage import download_to_path

    kind = JobKind(job.kind)
    bucket = get_settings().derivatives_bucket
    object_name = derived_object_name(job.id, kind)
    existing = _row_for(bucket, object_name)
    if existing is not None:
        return existing, None
    handle, local = tempfile.mkstemp(prefix="job-out-", suffix="." + object_name.rsplit(".")[-1])
    os.close(handle)
    try:
        stored = _stored_result(bucket, object_name)
        if stored is None:
            details = _cut(kind, job.params, source, Path(local), on_progress)
            data = Path(local).read_bytes()  # bounded: at most max_clip_duration_ms of video
            metadata = {DETAILS_METADATA_KEY: json.dumps(details, separators=(",", ":"))}
            created = write_new_object(bucket, object_name, data, RESULT_MIME[kind], metadata)
            if created is not None:
                return _insert(job, source, data, created, details), local
            stored = _stored_result(bucket, object_name)  # a concurrent attempt was first
            if stored is None:
                raise TransientError(f"gs://{bucket}/{object_name} exists and vanished")
        generation, recorded = stored
        try:
            download_to_path(bucket, object_name, generation, local)
        except NotFound as exc:
            raise TransientError(f"result object changed under us: {exc}") from exc
        data = Path(local).read_bytes()
        details = recorded or _default_details(kind, job.params)
        media_id = _insert(job, source, data, generation, details)
    except BaseException:
        os.unlink(local)
        raise
    return media_id, local


def _default_details(kind: JobKind, params: dict[str, Any]) -> dict[str, Any]:
    offset = params["start_ms"] if kind is JobKind.CLIP else params["at_ms"]
    return {"offset_ms": offset}


def _cut(
    kind: JobKind,
    params: dict[str, Any],
    source: MediaObject,
    target: Path,
    on_progress: Callable[[float], None],
) -> dict[str, Any]:
    """Download the source's pinned generation and cut the result into `target`."""
    from pathlib import Path

    from common.storage import download_to_path

    handle, source_path = tempfile.mkstemp(
        prefix="job-src-", suffix="." + source.object_name.rsplit(".")[-1]
    )
    os.close(handle)
    try:
        try:
            download_to_path(source.bucket, source.object_name, source.generation, source_path)
        except NotFound as exc:
            raise PermanentMediaError(f"source object gone: {exc}") from exc
        return run_operation(kind, params, Path(source_path), target, on_progress)
    finally:
        os.unlink(source_path)


def _row_for(bucket: str, object_name: str) -> str | None:
    from sqlalchemy import select

    from common.db.engine import session_scope
    from common.db.models import MediaObject

    with session_scope() as session:
        return session.execute(
            select(MediaObject.id).where(
                MediaObject.bucket == bucket, MediaObject.object_name == object_name
            )
        ).scalar_one_or_none()


def _insert(
    job: Job, source: MediaObject, data: bytes, generation: int, details: dict[str, Any]
) -> str:
    """Insert the result's media row at `verified` (plus history) and record it on the job.

    Returns:
        The result's media id (the existing row's, if a concurrent attempt inserted it first).

    Raises:
        TransientError: database or Firestore trouble.
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
    mime_type = RESULT_MIME[kind]
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
            session.execute(
                update(Job).where(Job.id == job.id).values(result_media_id=inserted, result=details)
            )
        row = session.execute(
            select(MediaObject).where(
                MediaObject.bucket == bucket, MediaObject.object_name == object_name
            )
        ).scalar_one()
    write_media_status(row.id, status=row.status, reason=None, device_id=row.device_id)
    log.info("job %s: result media %s at gs://%s/%s", job.id, row.id, bucket, object_name)
    return row.id
