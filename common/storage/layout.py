"""Every object name the pipeline reads or writes, built in one place.

Uploads bucket:
    `<device_id>/<camera_id>/<YYYY-MM-DD>/<message_id>.<ext>`  a device's capture (UTC date)
    `<quarantine_prefix><object name>.<version>`                 rejected bytes, kept for forensics

Derivatives bucket:
    `<media_id>/<kind>.<ext>`                                    renditions (`DERIVATIVE_KINDS`)
    `<media_id>/track-<n>.jpg`                                   a track's snapshot
    `<job_id>/clip.mp4`, `<job_id>/snapshot.jpg`                 a job's result media
    `ingest/<device_id>/<token>`                                 a data URL's bytes, until ingested

The ids are checked against `common.core.ids.SEGMENT_PATTERN` before they get here (tokens and
declarations are validated), so a name can never climb into another device's prefix; the builders
check again and refuse anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from common.core.ids import is_segment
from common.core.status import DERIVATIVE_KINDS, JobKind

EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
    "video/x-matroska": "mkv",
    "video/mp2t": "ts",
}
"""File extension of each MIME type an object may have."""


_UPLOAD_NAME = re.compile(
    r"^(?P<device>[^/]+)/(?P<camera>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<message>[^/]+)\.(?P<ext>[a-z0-9]+)$"
)
_JOB_RESULT = {
    JobKind.CLIP: ("clip.mp4", "video/mp4"),
    JobKind.SNAPSHOT: ("snapshot.jpg", "image/jpeg"),
}


def _segment(value: str, what: str) -> str:
    if not is_segment(value):
        raise ValueError(f"{what} {value!r} is not a valid id")
    return value


def upload_object_name(
    device_id: str, camera_id: str, captured_at: datetime, message_id: str, mime_type: str
) -> str:
    """Object name of a device's capture in the uploads bucket.

    Raises:
        ValueError: an id outside the id pattern, a year outside 1000..9999, or a MIME type
            without an extension.
    """
    day = captured_at.astimezone(UTC)
    if not 1000 <= day.year <= 9999:
        raise ValueError(f"capture year {day.year} is outside 1000..9999")
    return (
        f"{_segment(device_id, 'device_id')}/{_segment(camera_id, 'camera_id')}/"
        f"{day:%Y-%m-%d}/{_segment(message_id, 'message_id')}.{EXTENSIONS[mime_type]}"
    )


def is_upload_object_name(name: str) -> bool:
    """Tell whether `name` is laid out like a capture in the uploads bucket."""
    match = _UPLOAD_NAME.fullmatch(name)
    return match is not None and all(
        is_segment(match.group(part)) for part in ("device", "camera", "message")
    )


def quarantine_object_name(prefix: str, name: str, version: str) -> str:
    """Where rejected bytes of one version are kept: `<prefix><name>.<version>`."""
    return f"{prefix}{name}.{version}"


def derivative_object_name(media_id: str, kind: str, mime_type: str = "image/jpeg") -> str:
    """Object name of a rendition in the derivatives bucket: `<media_id>/<kind>.<ext>`.

    Raises:
        ValueError: an id outside the id pattern, or a kind outside `DERIVATIVE_KINDS`.
        KeyError: a MIME type without an extension in `EXTENSIONS`.
    """
    if kind not in DERIVATIVE_KINDS:
        raise ValueError(f"{kind!r} is not a derivative kind")
    return f"{_segment(media_id, 'media_id')}/{_segment(kind, 'kind')}.{EXTENSIONS[mime_type]}"


def track_snapshot_object_name(media_id: str, track_id: int) -> str:
    """Object name of a track's snapshot in the derivatives bucket: `<media_id>/track-<n>.jpg`."""
    return f"{_segment(media_id, 'media_id')}/track-{int(track_id)}.jpg"


def job_result_object_name(job_id: str, kind: JobKind) -> str:
    """Object name of a job's result in the derivatives bucket (`<job_id>/clip.mp4`, ...)."""
    return f"{_segment(job_id, 'job_id')}/{_JOB_RESULT[kind][0]}"


INGEST_STAGING_PREFIX = "ingest/"
"""Where data URLs' bytes wait for their ingest job in the derivatives bucket (a lifecycle rule
removes what is older than a day)."""


def ingest_staging_object_name(device_id: str, token: str) -> str:
    """Object name of a data URL's staged bytes (`ingest/<device_id>/<token>`)."""
    return f"{INGEST_STAGING_PREFIX}{_segment(device_id, 'device_id')}/{_segment(token, 'token')}"


def job_result_mime_type(kind: JobKind) -> str:
    """MIME type of a job's result: video/mp4 for clips, image/jpeg for snapshots."""
    return _JOB_RESULT[kind][1]


def filename_of(name: str) -> str:
    """The last path segment of an object name (a download's default file name)."""
    return name.rsplit("/", 1)[-1]


def storage_uri(scheme: str, bucket: str, name: str) -> str:
    """`gs://bucket/name` or `s3://bucket/name`."""
    return f"{scheme}://{bucket}/{name}"
