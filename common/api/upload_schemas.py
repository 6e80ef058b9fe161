"""Response bodies of the upload protocols (`common.media.uploads`): the declaration's answer with
its resumable upload, and the answer of `POST /v1/media/{id}/complete`.

Kept apart from `common.api.schemas` (whose models these build on) so the upload routes own them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from common.api.bodies import signed, storage_object
from common.api.schemas import (
    CreateMediaResponse,
    Schema,
    SignedRequestBody,
    StorageObject,
    UtcTime,
)

if TYPE_CHECKING:
    from common.api.auth import Principal
    from common.db.models import MediaObject
    from common.media.uploads import Completed, ResumableOffer


class SignedPartBody(Schema):
    """One part of an S3 multipart upload: PUT bytes `offset_bytes .. offset_bytes + size_bytes`
    of the file to `url` with exactly `headers`, before `expires_at`."""

    part_number: int
    offset_bytes: int
    size_bytes: int
    method: str
    url: str
    headers: dict[str, str]
    expires_at: UtcTime


class ResumableUploadBody(Schema):
    """A resumable upload (docs/CONTRACTS.md, "Resumable uploads").

    `gcs_resumable`: send `start` (a signed POST, no body) and PUT chunks of `chunk_size_bytes`
    (multiples of 256 KiB but the last) to the session URI its `Location` names, with
    `Content-Range: bytes a-b/size_bytes`. `s3_multipart`: PUT each of `parts`, then call
    `complete_path`; `received_parts` are stored already.
    """

    protocol: Literal["gcs_resumable", "s3_multipart"]
    size_bytes: int
    chunk_size_bytes: int
    start: SignedRequestBody | None
    upload_id: str | None
    parts: list[SignedPartBody]
    received_parts: list[int]
    received_bytes: int
    complete_path: str


class CreateUploadResponse(CreateMediaResponse):
    """Answer to a declaration while its bytes are expected: `upload` (one signed PUT) or
    `resumable`, never both; neither once the bytes are stored."""

    resumable: ResumableUploadBody | None = None


class CompleteUploadResponse(Schema):
    """Answer to `POST /v1/media/{id}/complete`: the media's status right after the call
    (`rejected` with its reason, or `verified` or later, when verification ran now; else the
    status as it is), and
    what this call did (`outcome`: `verified`, `rejected`, `in_progress` when another delivery
    holds it, `duplicate` or `handed_over_again` when it was done already; null when the media
    was past verification)."""

    id: str
    status: str
    status_reason_code: str | None
    status_reason: str | None
    outcome: str | None
    object: StorageObject | None


def complete_path(media_id: str) -> str:
    """The path of the media's complete call."""
    return f"/v1/media/{media_id}/complete"


def resumable_body(media: MediaObject, offer: ResumableOffer) -> ResumableUploadBody:
    """The body of a resumable offer."""
    return ResumableUploadBody(
        protocol=offer.protocol,  # type: ignore[arg-type]  # RESUMABLE_GCS or RESUMABLE_S3
        size_bytes=media.size_bytes,
        chunk_size_bytes=offer.chunk_size_bytes,
        start=signed(offer.start) if offer.start else None,
        upload_id=offer.upload_id,
        parts=[
            SignedPartBody(
                part_number=part.number,
                offset_bytes=part.offset_bytes,
                size_bytes=part.size_bytes,
                method=request.method,
                url=request.url,
                headers=request.headers,
                expires_at=request.expires_at,
            )
            for part, request in offer.parts
        ],
        received_parts=offer.received_parts,
        received_bytes=offer.received_bytes,
        complete_path=complete_path(media.id),
    )


def completed_body(done: Completed, principal: Principal) -> CompleteUploadResponse:
    """The body of a complete call's answer."""
    media = done.media
    return CompleteUploadResponse(
        id=media.id,
        status=media.status,
        status_reason_code=media.status_reason_code,
        status_reason=media.status_reason,
        outcome=done.outcome.value if done.outcome else None,
        object=storage_object(media, principal),
    )
