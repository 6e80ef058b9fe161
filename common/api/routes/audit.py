"""Operators' routes on the audit log and on quotas (admin tokens): read the audit log with filters
(list_media), read a device's quota and today's usage (list_media), override it (manage_media)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.api.routes.admin import require_admin
from common.core.ids import SEGMENT_PATTERN
from common.core.times import UtcInput


class AuditQuery(BaseModel):
    """`GET /v1/admin/audit`: every given filter must match; `cursor` from the previous page."""

    model_config = ConfigDict(extra="forbid")

    media_id: str | None = Field(default=None, max_length=40)
    device_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    actor: str | None = Field(default=None, max_length=300)
    action: str | None = Field(default=None, pattern=r"^[a-z_]{1,64}$")
    since: UtcInput | None = None
    until: UtcInput | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,19}$")


class AuditEventBody(schemas.Schema):
    """One audit event."""

    id: int
    at: schemas.UtcTime
    actor: str
    action: str
    media_id: str | None
    device_id: str | None
    details: dict[str, Any] | None


class AuditPage(schemas.Schema):
    """Audit events, newest first; `next_cursor` is null on the last page."""

    items: list[AuditEventBody]
    next_cursor: str | None


def read_audit(call: Call) -> Reply:
    """`GET /v1/admin/audit` (list_media)."""
    from common.db.engine import session_scope
    from common.observe.audit import query

    require_admin(call)
    wanted = call.query(AuditQuery)
    with session_scope() as session:
        rows = query(
            session,
            media_id=wanted.media_id,
            device_id=wanted.device_id,
            actor=wanted.actor,
            action=wanted.action,
            since=wanted.since,
            until=wanted.until,
            before_id=int(wanted.cursor) if wanted.cursor else None,
            limit=wanted.limit + 1,
        )
    items = [
        AuditEventBody(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            media_id=r.media_id,
            device_id=r.device_id,
            details=r.details,
        )
        for r in rows[: wanted.limit]
    ]
    more = len(rows) > wanted.limit
    return Reply(AuditPage(items=items, next_cursor=str(items[-1].id) if more else None))


class QuotaBody(schemas.Schema):
    """A device's daily limits (an admin's override or the defaults) and today's usage (UTC)."""

    device_id: str
    day: str
    bytes_per_day: int
    media_per_day: int
    overridden: bool
    used_bytes: int
    used_media: int


BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
"""The largest values of the columns the limits are stored in (Postgres bigint, integer)."""


class QuotaOverride(BaseModel):
    """`PUT /v1/admin/devices/{device_id}/quota`: null puts a limit back to the default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    bytes_per_day: int | None = Field(ge=0, le=BIGINT_MAX)
    media_per_day: int | None = Field(ge=0, le=INTEGER_MAX)


def _device(call: Call) -> str:
    from common.core.errors import NotFound
    from common.core.ids import is_segment

    device_id = call.params["device_id"]
    if not is_segment(device_id):
        raise NotFound(f"device {device_id!r} not found")
    return device_id


def _quota_body(session: Any, device_id: str) -> QuotaBody:
    from common.media.quotas import device_state

    state = device_state(session, device_id)
    return QuotaBody(**{**vars(state), "day": state.day.isoformat()})


def read_quota(call: Call) -> Reply:
    """`GET /v1/admin/devices/{device_id}/quota` (list_media)."""
    from common.db.engine import session_scope

    require_admin(call)
    device_id = _device(call)
    with session_scope() as session:
        return Reply(_quota_body(session, device_id))


def set_quota(call: Call) -> Reply:
    """`PUT /v1/admin/devices/{device_id}/quota` (manage_media)."""
    from common.db.engine import session_scope
    from common.media.quotas import set_override
    from common.observe import audit

    require_admin(call)
    device_id = _device(call)
    request = call.body(QuotaOverride)
    with session_scope() as session:
        set_override(
            session,
            device_id,
            bytes_per_day=request.bytes_per_day,
            media_per_day=request.media_per_day,
            actor=call.principal.actor,
        )
        audit.record(
            "quota_set",
            actor=call.principal.actor,
            device_id=device_id,
            details=request.model_dump(),
            session=session,
        )
        session.flush()
        return Reply(_quota_body(session, device_id))


LIST_ROUTES = [
    Route(
        "GET",
        "/v1/admin/audit",
        read_audit,
        operation_id="adminReadAudit",
        summary="The audit log, newest first, filtered by media, device, actor, action, time",
        query=AuditQuery,
        responses={200: AuditPage},
        errors=(401, 403, 422),
    ),
    Route(
        "GET",
        "/v1/admin/devices/<device_id>/quota",
        read_quota,
        operation_id="adminReadQuota",
        summary="A device's daily quota and today's usage (admins)",
        responses={200: QuotaBody},
        errors=(401, 403, 404),
    ),
]

MANAGE_ROUTES = [
    Route(
        "PUT",
        "/v1/admin/devices/<device_id>/quota",
        set_quota,
        operation_id="adminSetQuota",
        summary="Override a device's daily quota (null: back to the default) (admins)",
        body=QuotaOverride,
        responses={200: QuotaBody},
        errors=(400, 401, 403, 404, 422),
    ),
]
