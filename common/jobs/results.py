"""A job's result as a media object of its own: cut, store, then ingest like any other bytes.

The result (a clip, video/mp4, or a snapshot, image/jpeg) is stored in the derivatives bucket at
`<job_id>/clip.mp4` or `<job_id>/snapshot.jpg` (`common.storage.layout`), created only if absent
and never replaced, with the cut's details (clip path, frame time) as custom metadata. Only then
is it declared, from the stored bytes: device and camera of the source, message id = the job id,
`kind` = the job kind, `parent_id` = the source, `captured_at` = the source's plus the result's
offset into it; and `common.media.ingest.ingest_bytes` adopts the stored object and verifies it.
Because the object exists before any declaration and is never replaced, an attempt after a crash,
or one racing a duplicate delivery, declares the same bytes and finds the same row: there is never
a second result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.core import reasons
from common.core.errors import PermanentMediaError
from common.core.hashing import digest_path
from common.core.settings import get_settings
from common.core.status import JobKind, MediaKind
from common.media.declare import MediaSpec
from common.media.ingest import Ingested, ingest_bytes
from common.storage import get_store, layout
from common.storage.base import ObjectExists, ObjectNotFound
from common.storage.tempfiles import local_copy, temp_path

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job, MediaObject

log = logging.getLogger(__name__)

DETAILS_METADATA_KEY = "job-result"
"""Custom metadata of a result object: the cut's details as JSON, for an attempt that finds it."""


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
            mode="auto" if _plays_as_is(source) else "reencode",
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


def _plays_as_is(source: Path) -> bool:
    """Whether browsers play `source` as it is; a clip of a video that needs a playable version
    (HEVC, Motion JPEG, a camera's AVI or MPEG-TS) is cut from the original and re-encoded to
    H.264, never stream-copied into an MP4 no browser plays (`common.processing.playback`)."""
    from common.media.sniff import SNIFF_BYTES, sniff_mime
    from common.processing.playback import plan_playback, probe_format

    with source.open("rb") as handle:
        mime_type = sniff_mime(handle.read(SNIFF_BYTES)) or "application/octet-stream"
    return plan_playback(probe_format(source, mime_type)).as_is


@dataclass(frozen=True)
class Result:
    """A job's result media: the ingest outcome, the cut's details, a local copy of its bytes."""

    ingested: Ingested
    details: dict[str, Any]
    local_path: Path


def _concat_parts(
    session: Session,
    parts: list[dict[str, Any]],
    target: Path,
    on_progress: Callable[[float], None],
) -> dict[str, Any]:
    """Cut a clip across recordings: each part from its own source, one output."""
    from contextlib import ExitStack

    from common.core.errors import NotFound
    from common.db.repo import get_media
    from common.processing.concat import Part, concat_clip

    store = get_store()
    with ExitStack() as stack:
        pieces = []
        for part in parts:
            try:
                media = get_media(session, part["media_id"])
            except NotFound as exc:
                raise ObjectNotFound(f"source {part['media_id']} is gone") from exc
            session.commit()
            path = stack.enter_context(
                local_copy(
                    store, media.bucket, media.object_name, media.object_version, prefix="job-src-"
                )
            )
            pieces.append(Part(path, int(part["start_ms"]), int(part["duration_ms"])))
        result = concat_clip(pieces, target, on_progress=on_progress)
    return {
        "path": "concat",
        "parts": len(parts),
        "frames": result.frames,
        "duration_ms": result.duration_ms,
        "width": result.width,
        "height": result.height,
        "has_audio": result.has_audio,
        "offset_ms": int(parts[0]["start_ms"]),
    }


def _cut_and_store(
    session: Session,
    job: Job,
    source: MediaObject,
    target: Path,
    on_progress: Callable[[float], None],
) -> dict[str, Any] | None:
    """Cut the result into `target` and store it if absent; None when another attempt stored it."""
    store = get_store()
    kind = JobKind(job.kind)
    try:
        if "parts" in job.params:
            details = _concat_parts(session, job.params["parts"], target, on_progress)
        else:
            with local_copy(
                store, source.bucket, source.object_name, source.object_version, prefix="job-src-"
            ) as source_path:
                details = run_operation(kind, job.params, source_path, target, on_progress)
    except ObjectNotFound as exc:
        raise PermanentMediaError(
            reasons.reason(reasons.SOURCE_GONE).message, code=reasons.SOURCE_GONE
        ) from exc
    metadata = {DETAILS_METADATA_KEY: json.dumps(details, separators=(",", ":"))}
    try:
        store.write_file(
            get_settings().derivatives_bucket,
            layout.job_result_object_name(job.id, kind),
            target,
            layout.job_result_mime_type(kind),
            if_absent=True,
            metadata=metadata,
        )
    except ObjectExists:
        return None
    return details


def _spec(job: Job, source: MediaObject, path: Path, details: dict[str, Any]) -> MediaSpec:
    kind = JobKind(job.kind)
    digest = digest_path(path)
    return MediaSpec(
        device_id=source.device_id,
        camera_id=source.camera_id,
        message_id=job.id,
        captured_at=source.captured_at + timedelta(milliseconds=int(details.get("offset_ms", 0))),
        mime_type=layout.job_result_mime_type(kind),
        size_bytes=digest.size_bytes,
        sha256=digest.sha256_hex,
        md5=digest.md5_base64 or "",
        created_by=f"job:{job.id}",
        kind=MediaKind(kind.value),
        bucket=get_settings().derivatives_bucket,
        object_name=layout.job_result_object_name(job.id, kind),
        parent_id=source.id,
        reason=source.reason,
        labels=list(job.params.get("labels") or []),
        note=job.params.get("note"),
        request={"job_id": job.id, "kind": kind.value},
        original_filename=result_filename(source, kind, details),
    )


def _clock(ms: int) -> str:
    seconds, millis = divmod(max(0, int(ms)), 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}.{millis // 100}s"


def result_filename(source: MediaObject, kind: JobKind, details: dict[str, Any]) -> str:
    """The name a job's result goes by: its source and where in it, e.g.
    "bikes.mp4 clip 0m01.0s-0m03.0s.mp4", "bikes.mp4 at 0m02.4s.jpg"."""
    stem = (source.original_filename or f"{source.camera_id} {source.media_type}")[:200]
    start = int(details.get("offset_ms", 0))
    if kind is JobKind.CLIP:
        end = start + int(details.get("duration_ms", 0))
        return f"{stem} clip {_clock(start)}-{_clock(end)}.mp4"
    return f"{stem} at {_clock(start)}.jpg"


@contextmanager
def produce_result(
    session: Session, job: Job, source: MediaObject, on_progress: Callable[[float], None]
) -> Iterator[Result]:
    """Find or make the job's result media (see the module docstring); yields it with a local
    copy of its bytes, removed when the block ends.

    Raises:
        PermanentMediaError: the source is gone (`source_gone`) or does not decode.
        TransientError: storage, database or Firestore trouble.
    """
    store = get_store()
    kind = JobKind(job.kind)
    bucket = get_settings().derivatives_bucket
    name = layout.job_result_object_name(job.id, kind)
    with temp_path(suffix=Path(name).suffix, prefix="job-out-") as local:
        details = None
        if store.stat(bucket, name) is None:
            details = _cut_and_store(session, job, source, local, on_progress)
        if details is None:  # stored by an earlier or a concurrent attempt: use those bytes
            info = store.stat(bucket, name)
            if info is None:
                from common.core.errors import TransientError

                raise TransientError(f"result {name} exists and vanished")
            store.download_to_file(bucket, name, info.version, local)
            raw = info.metadata.get(DETAILS_METADATA_KEY)
            details = json.loads(raw) if raw else {}
        ingested = ingest_bytes(
            session,
            _spec(job, source, local, details),
            local,
            event_id=job.id,
            hand_over_after=False,
        )
        log.info("job %s: result media %s at %s/%s", job.id, ingested.media.id, bucket, name)
        yield Result(ingested, details, local)
