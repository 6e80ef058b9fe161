"""Declaring a capture: validate, write the metadata row idempotently, sign the upload URL.

Idempotency key: (device_id, camera_id, message_id). A replay with the same body answers 200 with
the same id (and a fresh upload URL while the bytes are still pending); a replay with another body is
a 409. Concurrent identical declarations create exactly one row (Postgres `ON CONFLICT DO NOTHING` on
the unique key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from common.errors import Conflict, PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.http import iso_utc
from common.ids import MEDIA_PREFIX, new_id
from common.settings import Settings, get_settings
from common.status import MediaStatus

if TYPE_CHECKING:
    from common.db.models import MediaObject

SEGMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_SEGMENT_RE = re.compile(SEGMENT_PATTERN)

EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


def is_safe_segment(value: str) -> bool:
    """Tell whether `value` can be one object-name path segment (no '/', no leading dot)."""
    return bool(_SEGMENT_RE.match(value)) and ".." not in value


class CreateMediaRequest(BaseModel):
    """Body of `POST /v1/media`.

    `sha256` is lowercase hex (64 chars); `md5` is standard base64 of the 16-byte digest, as in the
    `Content-MD5` header; `size_bytes` is the exact object size; `captured_at` is RFC 3339 with an
    offset.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera_id: str = Field(pattern=SEGMENT_PATTERN)
    message_id: str = Field(pattern=SEGMENT_PATTERN)
    captured_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=256)
    mime_type: str = Field(max_length=64)
    size_bytes: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    md5: str = Field(min_length=24, max_length=24)

    @field_validator("sha256")
    @classmethod
    def _lower_hex(cls, value: str) -> str:
        return value.lower()

    @field_validator("md5")
    @classmethod
    def _md5_base64(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("md5 must be base64 of a 16-byte digest") from exc
        if len(raw) != 16:
            raise ValueError("md5 must be base64 of a 16-byte digest")
        return value

    @field_validator("mime_type")
    @classmethod
    def _lower_mime(cls, value: str) -> str:
        return value.lower()

    @field_validator("captured_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def request_hash(self) -> str:
        """SHA-256 hex of the canonical body: equal requests hash equal, whatever their layout."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def object_name_for(device_id: str, request: CreateMediaRequest) -> str:
    """Return `<device_id>/<camera_id>/<YYYY-MM-DD>/<message_id>.<ext>` (date of capture, UTC)."""
    day = request.captured_at.astimezone(UTC).strftime("%Y-%m-%d")
    extension = EXTENSIONS[request.mime_type]
    return f"{device_id}/{request.camera_id}/{day}/{request.message_id}.{extension}"


def check_contract(
    request: CreateMediaRequest, settings: Settings, now: datetime | None = None
) -> None:
    """Apply the checks that depend on configuration.

    Raises:
        UnsupportedMediaType: MIME type not on the allowlist (415).
        PayloadTooLarge: size above `max_upload_size_bytes` (413).
        ValidationError: `captured_at` further in the future than the allowed clock skew (422).
    """
    if request.mime_type not in settings.mime_allowlist or request.mime_type not in EXTENSIONS:
        raise UnsupportedMediaType(
            f"mime_type {request.mime_type!r} is not accepted",
            details={"accepted": sorted(settings.mime_allowlist)},
        )
    if request.size_bytes > settings.max_upload_size_bytes:
        raise PayloadTooLarge(
            f"size_bytes {request.size_bytes} exceeds {settings.max_upload_size_bytes}",
            details={"max_size_bytes": settings.max_upload_size_bytes},
        )
    limit = (now or datetime.now(UTC)) + timedelta(seconds=settings.max_capture_clock_skew_seconds)
    if request.captured_at > limit:
        raise ValidationError(
            "captured_at is in the future",
            code="captured_at_in_future",
            details={"field": "captured_at"},
        )


@dataclass(frozen=True)
class CreateResult:
    """Outcome of a declaration: `created` is False for an idempotent replay."""

    created: bool
    body: dict[str, Any]


def upload_headers(request: CreateMediaRequest) -> dict[str, str]:
    """Headers the signed PUT pins (sent verbatim by the device)."""
    return {
        "Content-MD5": request.md5,
        "x-goog-content-length-range": f"{request.size_bytes},{request.size_bytes}",
        "x-goog-if-generation-match": "0",
    }


def declare_media(
    device_id: str, request: CreateMediaRequest, *, extra: dict[str, Any] | None = None
) -> tuple[MediaObject, bool]:
    """Validate a declaration and insert its row, or find the row of an identical earlier one.

    The one code path behind `POST /v1/media` and `POST /v1/snapshots` (`common.snapshots`).

    Args:
        device_id: the declaring device.
        request: the declaration.
        extra: more MediaObject columns to set on a new row (e.g. `labels`, `note`, `kind`); they
            are part of the request hash, so a replay that changes them is a conflict.

    Returns:
        The row and whether this call created it.

    Raises:
        UnsupportedMediaType, PayloadTooLarge, ValidationError: see `check_contract`.
        Conflict: the key exists with a different body (409).
        TransientError: the database is unavailable.
    """
    from sqlalchemy import select
    from sqlalchemy.dialects.postgresql import insert

    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.storage import gs_uri

    settings = get_settings()
    check_contract(request, settings)
    object_name = object_name_for(device_id, request)
    request_hash = request.request_hash()
    if extra:
        canonical = json.dumps(extra, sort_keys=True, separators=(",", ":"))
        request_hash = hashlib.sha256(f"{request_hash}:{canonical}".encode()).hexdigest()
    values = {
        "id": new_id(MEDIA_PREFIX),
        "device_id": device_id,
        "camera_id": request.camera_id,
        "message_id": request.message_id,
        "captured_at": request.captured_at,
        "reason": request.reason,
        "media_type": request.mime_type.split("/", 1)[0],
        "mime_type": request.mime_type,
        "size_bytes": request.size_bytes,
        "sha256": request.sha256,
        "md5": request.md5,
        "request_hash": request_hash,
        "bucket": settings.uploads_bucket,
        "object_name": object_name,
        "gcs_uri": gs_uri(settings.uploads_bucket, object_name),
        "status": MediaStatus.PENDING_UPLOAD.value,
        "created_by": f"device:{device_id}",
        **(extra or {}),
    }
    keys = ["device_id", "camera_id", "message_id"]
    with session_scope() as session:
        inserted = session.execute(
            insert(MediaObject)
            .values(**values)
            .on_conflict_do_nothing(index_elements=keys)
            .returning(MediaObject.id)
        ).scalar_one_or_none()
        row = session.execute(
            select(MediaObject).where(
                MediaObject.device_id == device_id,
                MediaObject.camera_id == request.camera_id,
                MediaObject.message_id == request.message_id,
            )
        ).scalar_one()
    if inserted is None and row.request_hash != request_hash:
        raise Conflict(
            "this (camera_id, message_id) was already declared with a different body",
            code="idempotency_conflict",
            details={"id": row.id},
        )
    return row, inserted is not None


def create_media(device_id: str, request: CreateMediaRequest) -> CreateResult:
    """Declare a capture for `device_id`; see the module docstring for idempotency.

    Returns:
        `created` and the response body `{id, status, object: {bucket, name, uri}, upload?}`; `upload`
        is `{method, url, headers, expires_at}` while the media is `pending_upload`.

    Raises:
        UnsupportedMediaType, PayloadTooLarge, ValidationError: see `check_contract`.
        Conflict: the key exists with a different body (409).
        TransientError: the database or signing is unavailable.
    """
    from common.storage import sign_url

    settings = get_settings()
    row, created = declare_media(device_id, request)
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "object": {"bucket": row.bucket, "name": row.object_name, "uri": row.gcs_uri},
    }
    if row.status == MediaStatus.PENDING_UPLOAD.value:
        signed = sign_url(
            row.bucket,
            row.object_name,
            method="PUT",
            ttl_seconds=settings.upload_url_ttl_seconds,
            headers=upload_headers(request),
            content_type=request.mime_type,
        )
        body["upload"] = {
            "method": signed.method,
            "url": signed.url,
            "headers": signed.headers,
            "expires_at": iso_utc(signed.expires_at),
        }
    return CreateResult(created=created, body=body)
