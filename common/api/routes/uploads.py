"""create_media's routes: a device declares a capture (a signed upload, single or resumable),
says its upload is done, or sends a still inline."""

from __future__ import annotations

from common.api import schemas, upload_schemas
from common.api.app import Call, Reply, Route
from common.media.declare import CreateMediaRequest, spec_for_upload
from common.media.snapshots import InlineSnapshotRequest

JSON_OVERHEAD_BYTES = 64 * 1024
"""Allowance for the JSON around an inline frame's base64 when bounding the body size."""


def _request_id(call: Call) -> str | None:
    return call.request.headers.get("X-Request-Id") or call.request.headers.get(
        "X-Cloud-Trace-Context"
    )


def create(call: Call) -> Reply:
    """`POST /v1/media`: declare a capture; answer how to upload it while the bytes are pending."""
    from common.core.status import MediaStatus
    from common.media.declare import declare
    from common.media.uploads import offer_upload

    device_id = call.principal.require_device()
    request = call.body(CreateMediaRequest)
    media, created = declare(
        spec_for_upload(device_id, request, created_by=call.principal.actor),
        event_id=_request_id(call),
    )
    upload = resumable = None
    if media.status == MediaStatus.PENDING_UPLOAD.value:
        offer = offer_upload(media, request.upload_protocol)
        upload = schemas.signed(offer.single) if offer.single else None
        if offer.resumable:
            resumable = upload_schemas.resumable_body(media, offer.resumable)
    body = upload_schemas.CreateUploadResponse(
        id=media.id,
        status=media.status,
        object=schemas.storage_object(media),
        upload=upload,
        resumable=resumable,
    )
    return Reply(body, 201 if created else 200)


def complete(call: Call) -> Reply:
    """`POST /v1/media/{media_id}/complete`: the device says its upload is done; verify now."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media import uploads

    call.principal.require_device()
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    done = uploads.complete(media, event_id=_request_id(call) or f"complete:{media.id}")
    return Reply(upload_schemas.completed_body(done))


def inline_snapshot(call: Call) -> Reply:
    """`POST /v1/snapshots`: store and verify a small still sent inline."""
    from common.media.snapshots import create_inline_snapshot

    device_id = call.principal.require_device()
    request = call.body(InlineSnapshotRequest)
    ingested, declared = create_inline_snapshot(
        device_id, request, created_by=call.principal.actor, event_id=_request_id(call)
    )
    media = ingested.media
    body = schemas.InlineSnapshotResponse(
        id=media.id,
        status=media.status,
        object=schemas.storage_object(media),
        mime_type=media.mime_type,
        declared_mime_type=declared,
    )
    return Reply(body, 201 if ingested.created else 200)


def _inline_limit() -> int:
    from common.core.settings import get_settings

    return get_settings().max_inline_snapshot_bytes * 4 // 3 + JSON_OVERHEAD_BYTES


ROUTES = [
    Route(
        "POST",
        "/v1/media",
        create,
        operation_id="createMedia",
        summary="Declare a capture and get a signed upload URL",
        description=(
            "Idempotent on (device, camera_id, message_id): the same body again answers 200 with "
            "the same id (and a fresh upload URL while the media is `pending_upload`); another "
            "body answers 409 `idempotency_conflict`. The device must send the bytes to "
            "`upload.url` with exactly `upload.headers`, or, when the answer has `resumable` "
            "(`upload_protocol: resumable`, or a size from `RESUMABLE_THRESHOLD_BYTES` up), "
            "resumably as docs/CONTRACTS.md says; a replay answers the same resumable upload "
            "with what is stored of it."
        ),
        body=CreateMediaRequest,
        responses={
            201: upload_schemas.CreateUploadResponse,
            200: upload_schemas.CreateUploadResponse,
        },
        errors=(400, 401, 403, 409, 413, 415, 422, 503),
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
