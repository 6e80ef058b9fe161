"""create_media's routes: declare a capture (a signed upload, single or resumable), say an
upload is done, hand the server a data URL or a remote URL to ingest (a job), or send a still
inline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import RootModel

from common.api import bodies, schemas, upload_schemas
from common.api.app import Call, Reply, Route
from common.jobs.ingest import IngestRequest
from common.media.declare import CreateMediaRequest, spec_for_upload
from common.media.snapshots import InlineSnapshotRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class CreateOrIngestRequest(RootModel[CreateMediaRequest | IngestRequest]):
    """Body of `POST /v1/media`: a declaration, or (with `source`) bytes for the server to fetch."""


JSON_OVERHEAD_BYTES = 64 * 1024
"""Allowance for the JSON around an inline frame's base64 when bounding the body size."""


def _request_id(call: Call) -> str | None:
    return call.request.headers.get("X-Request-Id") or call.request.headers.get(
        "X-Cloud-Trace-Context"
    )


def declaring_device(session: Session, call: Call, named: str | None) -> str:
    """The device a declaration is for: a device token's own, or one the user token owns.

    Raises:
        ValidationError: a user token that names no device (422).
        Forbidden: a device token naming another device (`device_mismatch`); a user who does not
            own it but sees it (`owner_required`).
        NotFound: a device the user cannot see.
    """
    from common.api.access import require_owner
    from common.core.errors import Forbidden, ValidationError

    principal = call.principal
    if principal.kind == "device":
        if named is not None and named != principal.subject:
            raise Forbidden("a device token declares only its own captures", code="device_mismatch")
        return principal.subject
    if named is None:
        raise ValidationError(
            "a user token must name the device_id of a device it owns",
            details=[{"field": "device_id", "message": "required for user tokens"}],
        )
    require_owner(session, principal, named)
    return named


def ingesting_device(session: Session, call: Call, named: str | None) -> str:
    """The device an ingest is for: as `declaring_device`, except that a user token naming none
    gets their personal device (`common.media.devices.personal_device_id`)."""
    if named is not None or call.principal.kind == "device":
        return declaring_device(session, call, named)
    from common.media.devices import ensure_personal_device

    return ensure_personal_device(session, call.principal.subject)


def ingest(call: Call) -> Reply:
    """`POST /v1/media` with a `source`: queue the server's fetch of a data URL or a remote URL."""
    from common.db.engine import session_scope
    from common.jobs.api import enqueue_if_queued
    from common.jobs.ingest import create_ingest_job, discard_staged, params_of
    from common.observe import audit

    request = call.body(IngestRequest)
    with session_scope() as session:
        device_id = ingesting_device(session, call, request.device_id)
        session.commit()
        params = params_of(device_id, request)
        queued = create_ingest_job(session, device_id, params, created_by=call.principal.actor)
        if queued.created:
            audit.record(
                "ingest_requested",
                actor=call.principal.actor,
                device_id=device_id,
                details={"job_id": queued.job.id, "source": params["source"]["type"]},
                session=session,
            )
    if not queued.created:
        discard_staged(params)  # the earlier request's copy is the job's
    enqueue_if_queued(queued.job)
    return Reply(bodies.job(queued.job), 202 if queued.created else 200)


def create(call: Call) -> Reply:
    """`POST /v1/media`: declare a capture and answer its upload URL while the bytes are pending;
    with a `source`, queue an ingest instead."""
    from common.core import context
    from common.core.status import MediaStatus
    from common.db.engine import session_scope
    from common.media.declare import declare
    from common.media.uploads import offer_upload

    data = call.json()
    if isinstance(data, dict) and "source" in data:
        return ingest(call)
    request = call.body(CreateMediaRequest)
    with session_scope() as session:
        device_id = declaring_device(session, call, request.device_id)
        session.commit()
        declared = declare(
            spec_for_upload(device_id, request, created_by=call.principal.actor),
            event_id=_request_id(call),
        )
        media = declared.media
        context.label(media_id=media.id, device_id=media.device_id)
        upload = resumable = None
        if media.status == MediaStatus.PENDING_UPLOAD.value:
            offer = offer_upload(session, media, request.upload_protocol)
            upload = bodies.signed(offer.single) if offer.single else None
            if offer.resumable:
                resumable = upload_schemas.resumable_body(media, offer.resumable)
    body = upload_schemas.CreateUploadResponse(
        id=media.id,
        status=media.status,
        object=bodies.storage_object(media, call.principal),
        upload=upload,
        resumable=resumable,
        deduplicated=declared.deduplicated,
    )
    return Reply(body, 201 if declared.created else 200)


def complete(call: Call) -> Reply:
    """`POST /v1/media/{media_id}/complete`: the device says its upload is done; verify now."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media import uploads

    call.principal.require_device()
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        done = uploads.complete(
            session, media, event_id=_request_id(call) or f"complete:{media.id}"
        )
    return Reply(upload_schemas.completed_body(done, call.principal))


def inline_snapshot(call: Call) -> Reply:
    """`POST /v1/snapshots`: store and verify a small still sent inline."""
    from common.db.engine import session_scope
    from common.media.snapshots import create_inline_snapshot

    device_id = call.principal.require_device()
    request = call.body(InlineSnapshotRequest)
    with session_scope() as session:
        ingested, declared = create_inline_snapshot(
            session, device_id, request, created_by=call.principal.actor, event_id=_request_id(call)
        )
    media = ingested.media
    body = schemas.InlineSnapshotResponse(
        id=media.id,
        status=media.status,
        object=bodies.storage_object(media, call.principal),
        mime_type=media.mime_type,
        declared_mime_type=declared,
    )
    return Reply(body, 201 if ingested.created else 200)


def _inline_limit() -> int:
    from common.core.settings import get_settings

    return get_settings().max_inline_snapshot_bytes * 4 // 3 + JSON_OVERHEAD_BYTES


def _create_limit() -> int:
    from common.core.settings import get_settings

    settings = get_settings()
    data_url = settings.max_ingest_data_url_bytes * 4 // 3 + JSON_OVERHEAD_BYTES
    return max(settings.max_request_body_bytes, data_url)


ROUTES = [
    Route(
        "POST",
        "/v1/media",
        create,
        operation_id="createMedia",
        summary="Declare a capture and get a signed upload URL, or have the server ingest one",
        description=(
            "A declaration is idempotent on (device, camera_id, message_id): the same body again "
            "answers 200 with the same id (and a fresh upload URL while the media is "
            "`pending_upload`); another body answers 409 `idempotency_conflict`. The device must "
            "send the bytes to `upload.url` with exactly `upload.headers`, or, when the answer "
            "has `resumable` (`upload_protocol: resumable`, or a size from "
            "`RESUMABLE_THRESHOLD_BYTES` up), resumably as docs/CONTRACTS.md says; a replay "
            "answers the same resumable upload with what is stored of it. Bytes the device "
            "already has stored (same SHA-256) answer 200 with that media and "
            "`deduplicated: true`.\n\n"
            "With `source` (`data_url` or `remote_url`) the server fetches the bytes itself: 202 "
            "with an ingest job (`GET /v1/jobs/{id}`, its event stream); `result_media_id` once "
            "done. A user token may leave out the device (their personal device is used), the "
            "camera and the message id. Daily quotas answer 429 with `Retry-After`."
        ),
        body=CreateOrIngestRequest,
        responses={
            201: upload_schemas.CreateUploadResponse,
            200: upload_schemas.CreateUploadResponse,
            202: schemas.JobBody,
        },
        errors=(400, 401, 403, 409, 413, 415, 422, 429, 503),
        body_limit=_create_limit,
    ),
    Route(
        "POST",
        "/v1/media/<media_id>/complete",
        complete,
        operation_id="completeUpload",
        summary="Say the upload is done: verify the stored bytes now",
        description=(
            "Device token of the media's device. Completes an S3 multipart upload (409 "
            "`upload_incomplete` with `details.missing_parts` while parts are missing), then "
            "verifies the object's live version exactly as its bucket notification would; "
            "whichever of the two comes first does the work, the other is a no-op. The answer "
            "carries the status after verification (`verified`, or `rejected` with its reason), "
            "or the current one when the media was past it. 409 `upload_incomplete` when no "
            "bytes are stored yet."
        ),
        responses={200: upload_schemas.CompleteUploadResponse},
        errors=(401, 403, 404, 409, 503),
    ),
    Route(
        "POST",
        "/v1/snapshots",
        inline_snapshot,
        operation_id="createInlineSnapshot",
        summary="Send a small still inline; it is stored, verified and processed like an upload",
        description=(
            "`frame_data` is a base64 data URL. The image type is sniffed from the bytes (JPEG, "
            "PNG, WebP) and recorded; the type the data URL declares is not trusted. Idempotent "
            "like `POST /v1/media` (labels and note are part of the body)."
        ),
        body=InlineSnapshotRequest,
        responses={201: schemas.InlineSnapshotResponse, 200: schemas.InlineSnapshotResponse},
        errors=(400, 401, 403, 409, 413, 415, 422, 503),
        body_limit=_inline_limit,
    ),
]
