"""Inline snapshots: a device sends one small still in the request body instead of uploading it.

`POST /v1/snapshots` carries the frame as a data URL (RFC 2397, `data:image/jpeg;base64,...`).
The bytes' type is sniffed from the bytes (`common.media.sniff`), never taken from the data URL: a
mismatching declared type is accepted and the sniffed one recorded. From there it is media like
any other: the computed size, SHA-256 and MD5 declare it (same idempotency key, same
200-on-replay / 409-on-change as `POST /v1/media`) with `kind` snapshot, and
`common.media.ingest.ingest_bytes` stores and verifies it at once and hands it over to processing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from common.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.core.settings import get_settings
from common.core.status import MediaKind
from common.media.declare import (
    MAX_LABELS,
    MAX_NOTE_CHARS,
    Label,
    MediaSpec,
    OriginalFilename,
    SegmentId,
    UtcTimestamp,
)
from common.media.ingest import Ingested, ingest_bytes
from common.media.sniff import sniff_mime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)
INLINE_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


class InlineSnapshotRequest(BaseModel):
    """Body of `POST /v1/snapshots`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera_id: SegmentId
    message_id: SegmentId
    captured_at: UtcTimestamp
    frame_data: str = Field(min_length=1, strict=True)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    original_filename: OriginalFilename | None = None


def decode_data_url(value: str, max_bytes: int) -> tuple[bytes, str | None]:
    """Decode a base64 data URL, refusing payloads over `max_bytes` before decoding them.

    Returns:
        The bytes and the declared media type (lowercase; None when the URL names none).

    Raises:
        ValidationError: not a `data:[<type>][;...];base64,<data>` URL, or bad base64 (422
            `invalid_frame_data`).
        PayloadTooLarge: more than `max_bytes` decoded bytes (413).
    """
    match = _DATA_URL.match(value)
    if match is None:
        raise ValidationError(
            "frame_data must be a base64 data URL (data:image/jpeg;base64,...)",
            code="invalid_frame_data",
        )
    encoded = "".join(value[match.end() :].split())
    decoded_estimate = len(encoded) * 3 // 4 - encoded[-2:].count("=")
    if decoded_estimate > max_bytes:
        raise PayloadTooLarge(
            f"frame of about {decoded_estimate} bytes exceeds {max_bytes}",
            details={"max_size_bytes": max_bytes},
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError("frame_data is not valid base64", code="invalid_frame_data") from exc
    declared = match.group("type")
    return data, declared.lower() if declared else None


def create_inline_snapshot(
    session: Session,
    device_id: str,
    request: InlineSnapshotRequest,
    *,
    created_by: str,
    event_id: str | None,
) -> tuple[Ingested, str | None]:
    """Declare, store and verify a snapshot sent inline by a device.

    Returns:
        What `ingest_bytes` did, and the type the data URL declared.

    Raises:
        ValidationError: invalid frame data (422).
        PayloadTooLarge: frame over `max_inline_snapshot_bytes` (413).
        UnsupportedMediaType: the bytes are not a JPEG, PNG or WebP image (415).
        Conflict: the (camera_id, message_id) was declared with another body (409).
        TransientError: database or storage unavailable (503; retrying is safe).
    """
    settings = get_settings()
    data, declared = decode_data_url(request.frame_data, settings.max_inline_snapshot_bytes)
    if not data:
        raise ValidationError("frame_data is empty", code="invalid_frame_data")
    mime_type = sniff_mime(data)
    if mime_type not in INLINE_IMAGE_TYPES:
        raise UnsupportedMediaType(
            "frame_data is not a JPEG, PNG or WebP image",
            details={"declared_mime_type": declared},
        )
    sha256 = hashlib.sha256(data).hexdigest()
    spec = MediaSpec(
        device_id=device_id,
        camera_id=request.camera_id,
        message_id=request.message_id,
        captured_at=request.captured_at,
        mime_type=mime_type,
        size_bytes=len(data),
        sha256=sha256,
        md5=base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324 - content MD5
        created_by=created_by,
        kind=MediaKind.SNAPSHOT,
        labels=list(dict.fromkeys(request.labels)),
        note=request.note,
        original_filename=request.original_filename,
        request={
            "kind": MediaKind.SNAPSHOT.value,
            "captured_at": request.captured_at.isoformat(),
            "sha256": sha256,
            "labels": request.labels,
            "note": request.note,
            "original_filename": request.original_filename,
        },
    )
    return ingest_bytes(session, spec, data, event_id=event_id), declared
