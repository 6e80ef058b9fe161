"""Operators' routes (admin tokens: a user token with `"admin": true`): describe a media, purge a
device, revive dead-lettered work (manage_media and list_media), reissue an upload URL
(create_media)."""

from __future__ import annotations

from datetime import UTC

from pydantic import BaseModel, ConfigDict, Field

from common.api import bodies, schemas
from common.api.app import Call, Reply, Route
from common.api.routes.shares import ShareBody, share_body
from common.core.times import UtcInput


def require_admin(call: Call) -> None:
    """Raise unless the caller is an admin.

    Raises:
        Forbidden: any other caller (`admin_required`).
    """
    from common.core.errors import Forbidden

    if not call.principal.admin:
        raise Forbidden("this needs an admin token", code="admin_required")


class HistoryBody(schemas.Schema):
    """One status change of a media."""

    from_status: str | None
    to_status: str
    reason_code: str | None
    reason: str | None
    event_id: str | None
    object_version: str | None
    at: schemas.UtcTime


class ObjectBody(schemas.Schema):
    """One object the media owns or owned, and whether it is stored now."""

    role: str
    bucket: str
    name: str
    exists: bool
    version: str | None
    size_bytes: int | None


class DescribeBody(schemas.Schema):
    """Everything about one media, for an operator."""

    media: schemas.MediaSummary
    created_by: str
    deleted_by: str | None
    deleted_at: schemas.UtcTime | None
    object_version: str | None
    history: list[HistoryBody]
    jobs: list[schemas.JobBody]
    shares: list[ShareBody]
    objects: list[ObjectBody]


def describe(call: Call) -> Reply:
    """`GET /v1/admin/media/{media_id}` (list_media)."""
    from common.admin.operations import describe as describe_media
    from common.api.access import load_media
    from common.db.engine import session_scope

    require_admin(call)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        found = describe_media(session, media)
        body = DescribeBody(
            media=bodies.summary(media),
            created_by=media.created_by,
            deleted_by=media.deleted_by,
            deleted_at=media.deleted_at,
            object_version=media.object_version,
            history=[
                HistoryBody(
                    from_status=h.from_status,
                    to_status=h.to_status,
                    reason_code=h.reason_code,
                    reason=h.reason,
                    event_id=h.event_id,
                    object_version=h.object_version,
                    at=h.at,
                )
                for h in found.history
            ],
            jobs=[bodies.job(j) for j in found.jobs],
            shares=[share_body(s) for s in found.shares],
            objects=[ObjectBody(**vars(o)) for o in found.objects],
        )
    return Reply(body)


class PurgeRequest(BaseModel):
    """`POST /v1/admin/devices/{device_id}/purge`."""

    model_config = ConfigDict(extra="forbid")

    before: UtcInput | None = None
    dry_run: bool = Field(default=True, strict=True)
    limit: int = Field(default=200, ge=1, le=1000, strict=True)


class PurgeBody(schemas.Schema):
    """What a purge matched and deleted; run again until `remaining` is 0."""

    device_id: str
    dry_run: bool
    matched_count: int
    matched_bytes: int
    matched_events: int
    deleted: list[str]
    remaining: int


def purge(call: Call) -> Reply:
    """`POST /v1/admin/devices/{device_id}/purge` (manage_media)."""
    from common.admin.operations import purge_device
    from common.core.errors import NotFound
    from common.core.ids import is_segment
    from common.db.engine import session_scope

    require_admin(call)
    device_id = call.params["device_id"]
    if not is_segment(device_id):
        raise NotFound(f"device {device_id!r} not found")
    request = call.body(PurgeRequest)
    with session_scope() as session:
        report = purge_device(
            session,
            device_id,
            before=request.before.astimezone(UTC) if request.before else None,
            dry_run=request.dry_run,
            limit=request.limit,
            actor=call.principal.actor,
        )
    return Reply(
        PurgeBody(
            device_id=device_id,
            dry_run=request.dry_run,
            matched_count=report.matched_count,
            matched_bytes=report.matched_bytes,
            matched_events=report.matched_events,
            deleted=report.deleted,
            remaining=report.remaining,
        )
    )


class ReviveBody(schemas.Schema):
    """A revived media's new status."""

    media_id: str
    status: str


def revive(call: Call) -> Reply:
    """`POST /v1/admin/media/{media_id}/revive` (manage_media)."""
    from common.admin.operations import revive as revive_media
    from common.api.access import load_media
    from common.db.engine import session_scope

    require_admin(call)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        status = revive_media(session, media, actor=call.principal.actor)
    return Reply(ReviveBody(media_id=media.id, status=status))


def reissue_upload(call: Call) -> Reply:
    """`POST /v1/admin/media/{media_id}/upload-url` (create_media): a fresh signed upload."""
    from common.admin.operations import require_pending
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.ingest import sign_upload

    require_admin(call)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    require_pending(media)
    return Reply(
        schemas.CreateMediaResponse(
            id=media.id,
            status=media.status,
            object=bodies.storage_object(media, call.principal),
            upload=bodies.signed(sign_upload(media)),
        )
    )


LIST_ROUTES = [
    Route(
        "GET",
        "/v1/admin/media/<media_id>",
        describe,
        operation_id="adminDescribeMedia",
        summary="Everything about one media: history, jobs, shares, stored objects (admins)",
        responses={200: DescribeBody},
        errors=(401, 403, 404),
    ),
]

MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/admin/devices/<device_id>/purge",
        purge,
        operation_id="adminPurgeDevice",
        summary="Delete a device's media (before a time), or count them with dry_run (admins)",
        description=(
            "For a returned camera or a data-subject erasure request. Deletes at most `limit` "
            "per call through the normal delete path (tombstones, children too); repeat until "
            "`remaining` is 0. `dry_run` (the default) deletes nothing."
        ),
        body=PurgeRequest,
        responses={200: PurgeBody},
        errors=(400, 401, 403, 404, 422),
    ),
    Route(
        "POST",
        "/v1/admin/media/<media_id>/revive",
        revive,
        operation_id="adminReviveMedia",
        summary="Bring dead-lettered work back (after a fix), before its messages are redriven",
        responses={200: ReviveBody},
        errors=(401, 403, 404, 409),
    ),
]

CREATE_ROUTES = [
    Route(
        "POST",
        "/v1/admin/media/<media_id>/upload-url",
        reissue_upload,
        operation_id="adminReissueUploadUrl",
        summary="A fresh signed upload URL for a media still pending its upload (admins)",
        responses={200: schemas.CreateMediaResponse},
        errors=(401, 403, 404, 409),
    ),
]
