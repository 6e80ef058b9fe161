"""Declaring media: validate what a device says about a capture, and write its row idempotently.

Every media object starts here, whoever holds the bytes: a device that will PUT them through a
signed URL (`POST /v1/media`), a device sending a small still inline, or a job storing its result.
`declare()` inserts the row at `pending_upload` (or finds the row of an identical earlier
declaration, or shares bytes the device has stored already: `common.media.dedupe`), charges the
quotas and records the first status and the audit event, in one statement; `common.media.ingest`
takes it from there.

Idempotency key: (device_id, camera_id, message_id). A replay with the same body answers the same
row; a replay with another body is a 409. Concurrent identical declarations create exactly one row
(`common.db.repo.declare_media`).
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
MAX_EVENT_ID_CHARS = 256
"""The longest request or message id recorded in the history (`status_history.event_id`)."""
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
        media: the row (not attached to any session).
        created: this call inserted it.
        deduplicated: the device had these bytes stored already: `media` shares them
            (`shares_bytes_of`), starts at `verified` and needs no upload.
    """

    media: MediaObject
    created: bool
    deduplicated: bool = False


def _params(
    spec: MediaSpec, settings: Settings, request_hash: str, event_id: str | None, now: datetime
) -> dict[str, Any]:
    """The argument of `declare_media`: the new row's columns and what the statement decides
    with (quota scopes and day, what may be shared, the audit details)."""
    from common.core import context
    from common.media import dedupe, quotas
    from common.storage import get_store

    bucket = spec.bucket or settings.uploads_bucket
    object_name = spec.object_name or layout.upload_object_name(
        spec.device_id, spec.camera_id, spec.captured_at, spec.message_id, spec.mime_type
    )
    return {
        "id": new_id(MEDIA_PREFIX),
        "device_id": spec.device_id,
        "camera_id": spec.camera_id,
        "message_id": spec.message_id,
        "captured_at": spec.captured_at.isoformat(),
        "reason": spec.reason,
        "media_type": spec.mime_type.partition("/")[0],
        "mime_type": spec.mime_type,
        "kind": spec.kind.value,
        "parent_id": spec.parent_id,
        "size_bytes": spec.size_bytes,
        "sha256": spec.sha256,
        "md5": spec.md5,
        "request_hash": request_hash,
        "bucket": bucket,
        "object_name": object_name,
        "storage_uri": layout.storage_uri(get_store().scheme, bucket, object_name),
        "status": MediaStatus.PENDING_UPLOAD.value,
        "labels": spec.labels,
        "note": spec.note,
        "original_filename": spec.original_filename,
        "created_by": spec.created_by,
        "trace_id": context.trace_id(),  # one upload, one trace (common.core.context)
        "event_id": event_id[:MAX_EVENT_ID_CHARS] if event_id else None,
        "day": now.date().isoformat(),
        "quotas": quotas.scopes_of(spec.device_id, spec.created_by),
        "audit_details": {"size_bytes": spec.size_bytes, "mime_type": spec.mime_type},
        **dedupe.share_params(spec),
    }


def _run(params: dict[str, Any], spec: MediaSpec, now: datetime) -> tuple[str, MediaObject]:
    """`common.db.repo.declare_media(params)`, its refusals as our errors.

    Raises:
        TooManyRequests: a quota refused it (nothing was written).
        Conflict: another declaration holds the object name (`idempotency_conflict`).
        TransientError: the database is unavailable.
    """
    from common.db.repo import QuotaExceeded, declare_media
    from common.media import quotas

    try:
        return declare_media(params)
    except QuotaExceeded as exc:
        raise quotas.refusal(exc.exceeded, exc.scope, spec.size_bytes, now) from exc
    except LookupError as exc:
        raise Conflict(
            "another declaration holds this object name", code="idempotency_conflict"
        ) from exc


def declare(
    spec: MediaSpec, *, event_id: str | None = None, hand_over_shared: bool = True
) -> Declared:
    """Insert the row of a declaration at `pending_upload`, or find the identical earlier one,
    or insert one that shares bytes the device has stored already.

    In order, in one statement (`declare_media`): a row with the declaration's key is a replay
    (the same body answers it, another is a 409); for an original (no parent), the device's
    oldest live media whose verified bytes are the declared ones lends them to a new row that
    starts at `verified` (`common.media.dedupe`); else a new row at `pending_upload`. A new row
    is charged to the daily quotas (`common.media.quotas`; shared bytes count one media and no
    bytes), its first status goes into the history and the `declared` audit event is written,
    all committed together. Races end with one row per key: identical keys meet on the unique
    key. Nothing is written to the realtime mirror: an event stream starts from the row
    (`common.api.sse`), and the stages that change the status mirror it. A media that shares
    bytes is handed over to processing (`media-verified`) unless `hand_over_shared` is False
    (the caller processes it, as an ingest job does).

    Raises:
        UnsupportedMediaType, PayloadTooLarge, ValidationError: see `check_contract`.
        Conflict: the key exists with a different body (409 `idempotency_conflict`).
        TooManyRequests: a daily quota is used up (429; recorded as `quota_refused`).
        TransientError: the database (or, for shared bytes, Pub/Sub) is unavailable.
    """
    from common.observe import audit
    from common.observe.events import log_event

    settings = get_settings()
    check_contract(spec, settings)
    now = datetime.now(UTC)
    request_hash = spec.request_hash()
    try:
        outcome, media = _run(_params(spec, settings, request_hash, event_id, now), spec, now)
    except TooManyRequests as exc:  # nothing was written; the refusal is still recorded
        audit.record(
            "quota_refused",
            actor=spec.created_by,
            device_id=spec.device_id,
            details={"code": exc.code, "size_bytes": spec.size_bytes, **dict(exc.details or {})},
        )
        raise
    shared = media.shares_bytes_of is not None
    if outcome == "existing" and media.request_hash != request_hash:
        raise Conflict(
            "this (camera_id, message_id) was already declared with a different body",
            code="idempotency_conflict",
            details={"id": media.id},
        )
    if shared and media.status == MediaStatus.VERIFIED.value and hand_over_shared:
        from common.media.verify import hand_over

        hand_over(media)  # again on a replay: the publish after the commit may have been lost
    if outcome == "shared":
        log_event(
            "dedupe.hit", media_id=media.id, device_id=media.device_id, size_bytes=spec.size_bytes
        )
    return Declared(media, outcome != "existing", shared)
