"""Declaring media: validate what a device says about a capture, and write its row idempotently.

Every media object starts here, whoever holds the bytes: a device that will PUT them through a
signed URL (`POST /v1/media`), a device sending a small still inline, or a job storing its result.
`declare()` inserts the row at `pending_upload` (or finds the row of an identical earlier
declaration), records that first status and mirrors it; `common.media.ingest` takes it from there.

Idempotency key: (device_id, camera_id, message_id). A replay with the same body answers the same
row; a replay with another body is a 409. Concurrent identical declarations create exactly one row
(`common.db.repo.insert_or_get`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
)
from pydantic import StringConstraints as Constraints

from common.core.errors import (
    Conflict,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
    ValidationError,
)
from common.core.ids import MEDIA_PREFIX, SEGMENT_PATTERN, new_id
from common.core.settings import Settings, get_settings
from common.core.status import MediaKind, MediaStatus
from common.storage import layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject


def _segment(value: str) -> str:
    if ".." in value:
        raise ValueError("must not contain '..'")
    return value


SegmentId = Annotated[
    str, Constraints(strict=True, pattern=SEGMENT_PATTERN), AfterValidator(_segment)
]
"""A device, camera or message id (`common.core.ids.SEGMENT_PATTERN`, never `..`)."""
Label = Annotated[str, Constraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_LABELS = 32
MAX_NOTE_CHARS = 2000
ORIGINAL_FILENAME_PATTERN = r"^[^/\\\x00-\x1f\x7f]{1,255}$"
OriginalFilename = Annotated[
    str, Constraints(strip_whitespace=True, pattern=ORIGINAL_FILENAME_PATTERN)
]
"""A file's name as the device had it: no directories, no control characters, 1..255 chars."""


def _text_only(value: Any) -> Any:
    """Timestamps must be RFC 3339 text: a number would be read as seconds or milliseconds."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string with an offset")
    return value


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset")
    try:
        utc = value.astimezone(UTC)
        utc + timedelta(days=1)  # keep a day of headroom for arithmetic on it
    except OverflowError as exc:
        raise ValueError("is outside the representable range of times") from exc
    return utc


UtcTimestamp = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_to_utc)]
"""An RFC 3339 string with an offset, converted to UTC; numbers and naive times are refused."""


class CreateMediaRequest(BaseModel):
    """Body of `POST /v1/media`: what a device declares about a capture it will upload.

    Field formats are in docs/CONTRACTS.md ("Declaring a capture").
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device_id: SegmentId | None = None
    """Whose capture it is: a user token names a device it owns; a device token may leave it out
    (or name itself)."""
    camera_id: SegmentId
    message_id: SegmentId
    captured_at: UtcTimestamp
    reason: str | None = Field(default=None, max_length=256)
    mime_type: str = Field(max_length=64, strict=True)
    size_bytes: StrictInt = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", strict=True)
    md5: str = Field(min_length=24, max_length=24, strict=True)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    original_filename: OriginalFilename | None = None
    # How the bytes will be sent (common.media.uploads); None: the server chooses by size.
    upload_protocol: Literal["single", "resumable"] | None = None

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

    @field_validator("labels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


@dataclass(frozen=True)
class MediaSpec:
    """Everything a new media row needs, whoever declares it.

    `request` is the canonical body that makes a replay a replay: its SHA-256 is the row's
    `request_hash`, so a second declaration with the same key and another body is a conflict.
    """

    device_id: str
    camera_id: str
    message_id: str
    captured_at: datetime
    mime_type: str
    size_bytes: int
    sha256: str
    md5: str
    created_by: str
    kind: MediaKind = MediaKind.UPLOAD
    bucket: str | None = None
    object_name: str | None = None
    parent_id: str | None = None
    reason: str | None = None
    labels: list[str] = field(default_factory=list)
    note: str | None = None
    original_filename: str | None = None
    request: dict[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        """SHA-256 hex of the canonical request: equal requests hash equal, whatever their layout."""
        canonical = json.dumps(self.request, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


def spec_for_upload(
    device_id: str,
    request: CreateMediaRequest,
    *,
    created_by: str,
    kind: MediaKind = MediaKind.UPLOAD,
) -> MediaSpec:
    """The spec of a device's declaration (`POST /v1/media`, inline snapshots)."""
    return MediaSpec(
        device_id=device_id,
        camera_id=request.camera_id,
        message_id=request.message_id,
        captured_at=request.captured_at,
        mime_type=request.mime_type,
        size_bytes=request.size_bytes,
        sha256=request.sha256,
        md5=request.md5,
        created_by=created_by,
        kind=kind,
        reason=request.reason,
        labels=request.labels,
        note=request.note,
        original_filename=request.original_filename,
        request={
            "kind": kind.value,
            **request.model_dump(mode="json", exclude_none=True, exclude={"device_id"}),
        },
    )


def check_contract(spec: MediaSpec, settings: Settings, now: datetime | None = None) -> None:
    """Apply the checks that depend on configuration.

    Raises:
        UnsupportedMediaType: MIME type not on the allowlist (415).
        PayloadTooLarge: size above `max_upload_size_bytes` (413).
        ValidationError: `captured_at` in the future beyond the allowed clock skew
            (`captured_at_in_future`) or before `min_captured_at` (`captured_at_out_of_range`).
    """
    if spec.mime_type not in settings.mime_allowlist or spec.mime_type not in layout.EXTENSIONS:
        raise UnsupportedMediaType(
            f"mime_type {spec.mime_type!r} is not accepted",
            details={"accepted": sorted(set(settings.mime_allowlist) & set(layout.EXTENSIONS))},
        )
    if spec.size_bytes > settings.max_upload_size_bytes:
        raise PayloadTooLarge(
            f"size_bytes {spec.size_bytes} exceeds {settings.max_upload_size_bytes}",
            details={"max_size_bytes": settings.max_upload_size_bytes},
        )
    limit = (now or datetime.now(UTC)) + timedelta(seconds=settings.max_capture_clock_skew_seconds)
    if spec.captured_at > limit:
        raise ValidationError(
            "captured_at is in the future",
            code="captured_at_in_future",
            details={"field": "captured_at"},
        )
    if spec.captured_at < settings.min_captured_at:
        raise ValidationError(
            f"captured_at is before {settings.min_captured_at.isoformat()}",
            code="captured_at_out_of_range",
            details={"field": "captured_at"},
        )


@dataclass(frozen=True)
class Declared:
    """What a declaration found or made.

    Attributes:
        media: the row.
        created: this call inserted it.
        deduplicated: the device already has media with these bytes (SHA-256): that media is the
            answer, nothing new is stored.
    """

    media: MediaObject
    created: bool
    deduplicated: bool = False


def _values(spec: MediaSpec, settings: Settings) -> dict[str, Any]:
    from common.core import context
    from common.storage import get_store

    bucket = spec.bucket or settings.uploads_bucket
    object_name = spec.object_name or layout.upload_object_name(
        spec.device_id, spec.camera_id, spec.captured_at, spec.message_id, spec.mime_type
    )
    media_type, _, _ = spec.mime_type.partition("/")
    return {
        "id": new_id(MEDIA_PREFIX),
        "device_id": spec.device_id,
        "camera_id": spec.camera_id,
        "message_id": spec.message_id,
        "captured_at": spec.captured_at,
        "reason": spec.reason,
        "media_type": media_type,
        "mime_type": spec.mime_type,
        "kind": spec.kind.value,
        "parent_id": spec.parent_id,
        "size_bytes": spec.size_bytes,
        "sha256": spec.sha256,
        "md5": spec.md5,
        "request_hash": spec.request_hash(),
        "bucket": bucket,
        "object_name": object_name,
        "storage_uri": layout.storage_uri(get_store().scheme, bucket, object_name),
        "status": MediaStatus.PENDING_UPLOAD.value,
        "labels": spec.labels,
        "note": spec.note,
        "original_filename": spec.original_filename,
        "created_by": spec.created_by,
        "trace_id": context.trace_id(),  # one upload, one trace (common.core.context)
    }


def _charge(session: Session, spec: MediaSpec) -> None:
    from common.media import quotas

    if spec.created_by.startswith("job:"):  # what a job makes counts against nobody
        return
    user = spec.created_by.removeprefix("user:") if spec.created_by.startswith("user:") else None
    quotas.charge(session, quotas.limits_for(session, spec.device_id, user), spec.size_bytes)


def _insert(
    session: Session, spec: MediaSpec, settings: Settings, event_id: str | None
) -> Declared:
    from sqlalchemy import select

    from common.db.models import MediaObject
    from common.db.repo import insert_or_get
    from common.media import dedupe, lifecycle
    from common.observe import audit

    key = {"device_id": spec.device_id, "camera_id": spec.camera_id, "message_id": spec.message_id}
    existing = session.execute(select(MediaObject).filter_by(**key)).scalar_one_or_none()
    if existing is not None:
        return Declared(existing, False)
    if dedupe.dedupes(spec):
        dedupe.lock_content(session, spec)
        twin = dedupe.twin_of(session, spec)
        if twin is not None:
            return Declared(twin, False, True)
    try:
        row, created = insert_or_get(session, MediaObject, _values(spec, settings), key)
    except LookupError as exc:
        raise Conflict(
            "another declaration holds this object name", code="idempotency_conflict"
        ) from exc
    if created:
        _charge(session, spec)
        lifecycle.created(session, row, event_id=event_id)
        audit.record(
            "declared",
            actor=spec.created_by,
            media_id=row.id,
            device_id=row.device_id,
            details={"size_bytes": spec.size_bytes, "mime_type": spec.mime_type},
            session=session,
        )
    return Declared(row, created)


def declare(spec: MediaSpec, *, event_id: str | None = None) -> Declared:
    """Insert the row of a declaration at `pending_upload`, or find the identical earlier one,
    or the device's media that already has these bytes.

    In order: a row with the declaration's key is a replay (the same body answers it, another is a
    409); for an original (no parent), a live original of the same device with the same SHA-256
    is the answer (dedupe: nothing new is stored, no quota is used); else a new row, charged to
    the daily quotas (`common.media.quotas`), its first status recorded in the history and
    mirrored. Races end with one row: identical keys meet on the unique key, equal bytes under
    different keys queue on the content lock.

    Raises:
        UnsupportedMediaType, PayloadTooLarge, ValidationError: see `check_contract`.
        Conflict: the key exists with a different body (409 `idempotency_conflict`).
        TooManyRequests: a daily quota is used up (429).
        TransientError: the database or the mirror is unavailable.
    """
    from common.db.engine import session_scope
    from common.media import lifecycle
    from common.observe import audit
    from common.observe.events import log_event

    settings = get_settings()
    check_contract(spec, settings)
    try:
        with session_scope() as session:
            declared = _insert(session, spec, settings, event_id)
    except TooManyRequests as exc:  # the declaration rolled back; its refusal is still recorded
        audit.record(
            "quota_refused",
            actor=spec.created_by,
            device_id=spec.device_id,
            details={"code": exc.code, "size_bytes": spec.size_bytes, **dict(exc.details or {})},
        )
        raise
    row = declared.media
    if declared.deduplicated:
        log_event(
            "dedupe.hit", media_id=row.id, device_id=row.device_id, size_bytes=spec.size_bytes
        )
        return declared
    if not declared.created and row.request_hash != spec.request_hash():
        raise Conflict(
            "this (camera_id, message_id) was already declared with a different body",
            code="idempotency_conflict",
            details={"id": row.id},
        )
    if declared.created or row.status == MediaStatus.PENDING_UPLOAD.value:
        lifecycle.mirror(row)  # a replay repairs a mirror write that failed the first time
    return declared
