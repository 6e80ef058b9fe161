"""manage_media's routes that end a device's access: revoke its tokens (owners and admins), delete
it (admins). See `common.media.device_tokens`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.core.times import UtcInput


class RevokeTokensRequest(BaseModel):
    """`POST /v1/devices/{device_id}/tokens/revoke`: one token by its id (`jti`, with its `exp`
    when known), or, with no `token_id`, every token of the device issued until now."""

    model_config = ConfigDict(extra="forbid")

    token_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")
    expires_at: UtcInput | None = None


class RevokedTokensBody(schemas.Schema):
    """What was revoked: one token id, or every token issued before `tokens_valid_after`; the
    shares of the device's own tokens that ended with them."""

    device_id: str
    token_id: str | None
    tokens_valid_after: schemas.UtcTime | None
    shares_ended: int


class DeletedDeviceBody(schemas.Schema):
    """A deleted device: its tokens are refused, its owners removed, its shares ended; its media
    (`media_remaining`) go with `POST /v1/admin/devices/{device_id}/purge`."""

    device_id: str
    shares_ended: int
    media_remaining: int


def _device(call: Call) -> str:
    from common.core.errors import NotFound
    from common.core.ids import is_segment

    device_id = call.params["device_id"]
    if not is_segment(device_id):
        raise NotFound(f"device {device_id!r} not found")
    return device_id


def revoke(call: Call) -> Reply:
    """`POST /v1/devices/{device_id}/tokens/revoke` (owners and admins)."""
    from common.api.access import require_owner
    from common.api.revocations import REVOCATIONS
    from common.db.engine import session_scope
    from common.media.device_tokens import revoke_tokens

    device_id = _device(call)
    request = call.body(RevokeTokensRequest)
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        done = revoke_tokens(
            session,
            device_id,
            actor=call.principal.actor,
            token_id=request.token_id,
            expires_at=request.expires_at,
        )
    REVOCATIONS.forget(device_id)
    return Reply(
        RevokedTokensBody(
            device_id=device_id,
            token_id=done.token_id,
            tokens_valid_after=done.valid_after,
            shares_ended=done.shares_ended,
        )
    )


def delete_device(call: Call) -> Reply:
    """`DELETE /v1/admin/devices/{device_id}` (admins)."""
    from sqlalchemy import func, select

    from common.api.revocations import REVOCATIONS
    from common.api.routes.admin import require_admin
    from common.core.status import GONE_STATUSES
    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.media.device_tokens import delete_device as delete

    require_admin(call)
    device_id = _device(call)
    with session_scope() as session:
        ended = delete(session, device_id, actor=call.principal.actor)
        remaining = session.execute(
            select(func.count()).where(
                MediaObject.device_id == device_id,
                MediaObject.status.not_in([s.value for s in GONE_STATUSES]),
            )
        ).scalar_one()
    REVOCATIONS.forget(device_id)
    return Reply(
        DeletedDeviceBody(device_id=device_id, shares_ended=ended, media_remaining=remaining)
    )


MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/devices/<device_id>/tokens/revoke",
        revoke,
        operation_id="revokeDeviceTokens",
        summary="Revoke one of a device's tokens, or all of them (owners and admins)",
        description=(
            "With `token_id` (the token's `jti`) that token is refused from now on; without it "
            "every token of the device issued until now is, and the shares the device's own "
            "tokens created end. Refused at once on the instance that answers, within "
            "`REVOCATION_CHECK_SECONDS` (5 s) on every other: 401 `token_revoked`."
        ),
        body=RevokeTokensRequest,
        responses={200: RevokedTokensBody},
        errors=(400, 401, 403, 404, 422),
    ),
    Route(
        "DELETE",
        "/v1/admin/devices/<device_id>",
        delete_device,
        operation_id="deleteDevice",
        summary="Delete a device: its tokens refused, its owners removed, its shares ended",
        description=(
            "Its tokens answer 401 `device_deleted` from now on (within 5 s on every "
            "instance). Its media stay until `POST /v1/admin/devices/{device_id}/purge` "
            "deletes them (`mediactl admin delete-device` does both)."
        ),
        responses={200: DeletedDeviceBody},
        errors=(401, 403, 404),
    ),
]
