"""Ingest by the server: media from a data URL or a remote URL, as a job.

`POST /v1/media` with a `source` queues an ingest job (202) instead of answering an upload URL:

    data_url    the bytes are in the request (RFC 2397 base64). They are sniffed at once (415 for a
                type the pipeline does not take) and staged in the derivatives bucket at
                `ingest/<device_id>/<token>` (`common.storage.layout`) for the job, which
                removes them when it ends (a replay's copy is removed at once).
    remote_url  the URL is checked at once without DNS (422 `url_not_allowed`); the job fetches it
                through `common.fetch` (SSRF rules, size cap, timeouts).

The job (`run_ingest`, run by process_media like clips and snapshots) then takes the bytes the
same way whatever their source: sniff the type from the bytes (never from the URL, the data URL or
a header), declare them for the device (`kind` ingest; dedupe and quotas apply), store and verify
them with `common.media.ingest.ingest_bytes`, and analyse them inline. Bytes the device has stored
already are not stored again: the job's media shares them (`result.deduplicated`,
`common.media.dedupe`) and is analysed as itself.

Refusals end the job `failed` with the fetch's or the declaration's code (`url_not_allowed`,
`fetch_failed`, `too_large`, `unsupported_media_type`, `quota_bytes_per_day`, ...) and are never
retried. Identity: (device, params) like every job; without a `message_id` every request is a new
job (the content dedupe still stores the bytes once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.core.ids import JOB_PREFIX, new_id
from common.core.settings import get_settings
from common.core.status import JobKind, JobStatus
from common.jobs.api import Queued
from common.media.declare import (
    MAX_LABELS,
    MAX_NOTE_CHARS,
    Label,
    OriginalFilename,
    SegmentId,
    UtcTimestamp,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_CAMERA_ID = "ingest"
"""The camera id of ingested media whose request names none."""


class DataUrlSource(BaseModel):
    """Bytes sent in the request as a base64 data URL (`data:image/png;base64,...`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["data_url"]
    data: str = Field(min_length=1, strict=True)


class RemoteUrlSource(BaseModel):
    """Bytes the server fetches from an `https://` URL (http only when allowed by a setting)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["remote_url"]
    url: str = Field(min_length=1, max_length=2048, strict=True)


class IngestRequest(BaseModel):
    """Body of `POST /v1/media` with a `source`: media the server fetches itself.

    Field formats are in docs/CONTRACTS.md ("Ingest by the server").
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: Annotated[DataUrlSource | RemoteUrlSource, Field(discriminator="type")]
    device_id: SegmentId | None = None
    camera_id: SegmentId | None = None
    message_id: SegmentId | None = None
    captured_at: UtcTimestamp | None = None
    reason: str | None = Field(default=None, max_length=256)
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    original_filename: OriginalFilename | None = None


STAGED_KEY = "staged_object"
"""The job parameter naming a data URL's staged copy (not part of what identifies the job)."""


def _stage_data_url(device_id: str, data_url: str) -> tuple[dict[str, Any], str]:
    """Decode, sniff and stage a data URL's bytes; the job's `source` and the staged name.

    Raises:
        ValidationError: not a base64 data URL, or empty (422 `invalid_frame_data`).
        PayloadTooLarge: over `max_ingest_data_url_bytes` (413).
        UnsupportedMediaType: the bytes are of no accepted type (415).
    """
    import hashlib

    from common.core.errors import ValidationError
    from common.media.snapshots import decode_data_url
    from common.storage import get_store, layout

    settings = get_settings()
    data, declared = decode_data_url(data_url, settings.max_ingest_data_url_bytes)
    if not data:
        raise ValidationError("the data URL holds no bytes", code="invalid_frame_data")
    mime_type = accepted_type(data, declared)
    sha256 = hashlib.sha256(data).hexdigest()
    name = layout.ingest_staging_object_name(device_id, new_id("stg"))
    get_store().write(settings.derivatives_bucket, name, data, mime_type, if_absent=True)
    return {"type": "data_url", "sha256": sha256, "size_bytes": len(data)}, name


def accepted_type(head: bytes, declared: str | None = None) -> str:
    """The type sniffed from the bytes, when the pipeline takes it.

    Raises:
        UnsupportedMediaType: unknown or not accepted (415; `details.sniffed_mime_type`).
    """
    from common.core.errors import UnsupportedMediaType
    from common.media.sniff import sniff_mime
    from common.storage import layout

    mime_type = sniff_mime(head)
    accepted = set(get_settings().mime_allowlist) & set(layout.EXTENSIONS)
    if mime_type not in accepted:
        raise UnsupportedMediaType(
            "the bytes are not of an accepted media type",
            details={
                "sniffed_mime_type": mime_type,
                "declared_mime_type": declared,
                "accepted": sorted(accepted),
            },
        )
    return mime_type


def params_of(device_id: str, request: IngestRequest) -> dict[str, Any]:
    """The job parameters of an ingest request (staging a data URL's bytes on the way).

    Raises:
        UrlNotAllowed: a remote URL the SSRF rules refuse without DNS (422).
        ValidationError, PayloadTooLarge, UnsupportedMediaType: see `_stage_data_url`.
        TransientError: staging failed.
    """
    from common.fetch import FetchPolicy, validate_url

    params = request.model_dump(mode="json", exclude={"source", "device_id"}, exclude_defaults=True)
    if isinstance(request.source, RemoteUrlSource):
        url = validate_url(request.source.url, policy=FetchPolicy.from_settings())
        params["source"] = {"type": "remote_url", "url": url}
    else:
        params["source"], params[STAGED_KEY] = _stage_data_url(device_id, request.source.data)
    if request.message_id is None:
        params["request_id"] = new_id("req")  # no idempotency key: a job of its own
    return params


def create_ingest_job(
    session: Session, device_id: str, params: dict[str, Any], *, created_by: str
) -> Queued:
    """Insert the ingest job for (device, params), or find the identical earlier one.

    The caller commits, then calls `common.jobs.api.enqueue_if_queued`; when this found an
    earlier job, the caller removes its own staged copy (`discard_staged`).
    """
    from common.db.models import Job
    from common.db.repo import insert_or_get
    from common.jobs.api import params_key

    key = params_key({k: v for k, v in params.items() if k != STAGED_KEY})
    job, created = insert_or_get(
        session,
        Job,
        {
            "id": new_id(JOB_PREFIX),
            "media_id": None,
            "device_id": device_id,
            "kind": JobKind.INGEST.value,
            "params": params,
            "params_key": key,
            "status": JobStatus.QUEUED.value,
            "progress": 0.0,
            "created_by": created_by,
        },
        {"device_id": device_id, "kind": JobKind.INGEST.value, "params_key": key},
    )
    return Queued(job, created)


def captured_at_of(params: dict[str, Any], queued_at: datetime) -> datetime:
    """The capture time of ingested media: the request's, else when the job was queued."""
    raw = params.get("captured_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else queued_at


def discard_staged(params: dict[str, Any]) -> None:
    """Remove the staged copy of a data URL's bytes named in `params`, if any (absent is fine).

    Raises:
        TransientError: storage unavailable.
    """
    name = params.get(STAGED_KEY)
    if isinstance(name, str):
        from common.storage import get_store

        get_store().delete(get_settings().derivatives_bucket, name)
