"""Inline snapshots: a device sends one small still in the request body instead of uploading it.

`POST /v1/snapshots` carries the frame as a data URL (RFC 2397, `data:image/jpeg;base64,...`).
The bytes' type is sniffed from their signature (JPEG `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`,
WebP `RIFF....WEBP`; https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern), never
taken from the data URL: a mismatching declared type is accepted and the sniffed one recorded.

From there it is an upload like any other: the computed size, SHA-256 and MD5 make a
`CreateMediaRequest` that goes through `common.uploads.declare_media` (same idempotency key
(device, camera_id, message_id), same 200-on-replay / 409-on-change), with `labels`, `note` and
`kind="snapshot"` on the row; then the server writes the bytes to the uploads bucket at the row's
object name with `if_generation_match=0` (an existing object is an earlier attempt's: a replay),
and the bucket notification drives finalize_upload -> process_media as for a signed PUT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticError

from common.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.settings import get_settings
from common.status import MediaStatus
from common.uploads import SEGMENT_PATTERN

if TYPE_CHECKING:
    from flask import Request

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)
JSON_OVERHEAD_BYTES = 64 * 1024
"""Allowance for the JSON around the base64 frame when bounding the request body size."""

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class InlineSnapshotRequest(BaseModel):
    """Body of `POST /v1/snapshots`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera_id: str = Field(pattern=SEGMENT_PATTERN)
    message_id: str = Field(pattern=SEGMENT_PATTERN)
    captured_at: AwareDatetime
    frame_data: str = Field(min_length=1)
    labels: list[Label] = Field(default_factory=list)
    note: str | None = Field(default=None, max_length=2000)


def sniff_image_type(data: bytes) -> str | None:
    """The image MIME type the bytes' signature names: image/jpeg, image/png, image/webp or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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


def read_body(request: Request) -> Any:
    """The JSON body, refused with 413 before reading when its length is beyond any valid frame.

    Raises:
        PayloadTooLarge: `Content-Length` over the bound (413).
        BadRequest: not JSON (400).
    """
    from common.http import json_body

    limit = get_settings().max_inline_snapshot_bytes * 4 // 3 + JSON_OVERHEAD_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"request body of {request.content_length} bytes exceeds {limit}",
            details={"max_size_bytes": get_settings().max_inline_snapshot_bytes},
        )
    return json_body(request)


@dataclass(frozen=True)
class SnapshotCreated:
    """Outcome of `create_inline_snapshot`: `created` is False for a replay."""

    created: bool
    body: dict[str, Any]


def create_inline_snapshot(device_id: str, body: Any) -> SnapshotCreated:
    """Declare and store a snapshot sent inline by a device.

    Args:
        device_id: the sending device (from its token).
        body: the decoded JSON body (`InlineSnapshotRequest`).

    Returns:
        `created` and `{id, status, object: {bucket, name, uri}, mime_type, declared_mime_type}`.

    Raises:
        ValidationError: invalid body or frame data (422).
        PayloadTooLarge: frame over `max_inline_snapshot_bytes` (413).
        UnsupportedMediaType: the bytes are not a JPEG, PNG or WebP image (415).
        Conflict: the (camera_id, message_id) was declared with another body (409).
        TransientError: database or storage unavailable (503; retrying is safe).
    """
    from common.job_results import write_new_object
    from common.jobs import validation_error
    from common.uploads import CreateMediaRequest, declare_media

    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        request = InlineSnapshotRequest.model_validate(body)
    except PydanticError as exc:
        raise validation_error(exc) from exc
    settings = get_settings()
    if len(request.labels) > settings.max_snapshot_labels:
        raise ValidationError(
            f"at most {settings.max_snapshot_labels} labels", details={"field": "labels"}
        )
    data, declared = decode_data_url(request.frame_data, settings.max_inline_snapshot_bytes)
    if not data:
        raise ValidationError("frame_data is empty", code="invalid_frame_data")
    mime_type = sniff_image_type(data)
    if mime_type is None:
        raise UnsupportedMediaType(
            "frame_data is not a JPEG, PNG or WebP image",
            details={"declared_mime_type": declared},
        )
    declaration = CreateMediaRequest(
        camera_id=request.camera_id,
        message_id=request.message_id,
        captured_at=request.captured_at,
        mime_type=mime_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324 - GCS MD5
    )
    extra = {"labels": request.labels, "note": request.note, "kind": "snapshot"}
    row, created = declare_media(device_id, declaration, extra=extra)
    if row.status == MediaStatus.PENDING_UPLOAD.value:
        write_new_object(row.bucket, row.object_name, data, mime_type)  # None: already written
    return SnapshotCreated(
        created=created,
        body={
            "id": row.id,
            "status": row.status,
            "object": {"bucket": row.bucket, "name": row.object_name, "uri": row.gcs_uri},
            "mime_type": mime_type,
            "declared_mime_type": declared,
        },
    )
