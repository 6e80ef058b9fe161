"""Device routes: the caller's devices (list_media), their owners, retention and per-camera
detection settings (changes on manage_media, owners only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.core.ids import USER_ID_PATTERN

MAX_MASKS = 32
MAX_MASK_POINTS = 256
"""Vertices of one mask polygon at most: a region drawn on a frame needs tens, and every sampled
frame's boxes are tested against every vertex."""


class MaskOverride(BaseModel):
    """A mask polygon: `points` as (x, y) fractions of the frame (0..1), 3 to `MAX_MASK_POINTS`;
    `labels` it applies to (empty: every label)."""

    model_config = ConfigDict(extra="forbid")

    points: list[tuple[float, float]] = Field(min_length=3, max_length=MAX_MASK_POINTS)
    labels: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=32
    )


class DetectionOverride(BaseModel):
    """A camera's detection override, merged into the deployment's defaults for new media.

    Fields are those of `common.processing.AnalysisConfig` that may vary per camera; see
    docs/CONTRACTS.md, "Detection settings per camera".
    """

    model_config = ConfigDict(extra="forbid")

    filters: dict[str, dict[str, Any]] | None = None
    default_filter: dict[str, Any] | None = None
    masks: list[MaskOverride] | None = Field(default=None, max_length=MAX_MASKS)
    detectors: list[str] | None = None
    video: dict[str, Any] | None = None
    track_iou: float | None = None
    track_max_gap_ms: int | None = None


class CameraDetection(schemas.Schema):
    """A camera's detection override as stored (empty: the defaults apply)."""

    device_id: str
    camera_id: str
    override: dict[str, Any]
    updated_by: str | None
    updated_at: schemas.UtcTime | None


class DeviceBody(schemas.Schema):
    """One device: its cameras, how many media it holds, its newest capture, its retention."""

    device_id: str
    cameras: list[str]
    media_count: int
    last_captured_at: schemas.UtcTime | None
    retention_days: int


class DevicePage(schemas.Schema):
    """The devices the caller sees (a device token: itself; a user: those it owns)."""

    items: list[DeviceBody]


class OwnerBody(schemas.Schema):
    """An owner of a device, and since when."""

    user_id: str
    since: schemas.UtcTime


class OwnerPage(schemas.Schema):
    """A device's owners."""

    device_id: str
    items: list[OwnerBody]


class OwnerRequest(BaseModel):
    """`POST /v1/devices/{device_id}/owners`: the user to grant the device to."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(pattern=USER_ID_PATTERN, strict=True)


class RetentionRequest(BaseModel):
    """`PUT /v1/devices/{device_id}/retention`: days media are kept (0: forever)."""

    model_config = ConfigDict(extra="forbid")

    retention_days: int = Field(ge=0, le=36500, strict=True)


def list_devices(call: Call) -> Reply:
    """`GET /v1/devices`."""
    from common.db.engine import session_scope
    from common.media.devices import owned_devices, summaries

    principal = call.principal
    with session_scope() as session:
        if principal.kind == "device":
            device_ids: list[str] | None = [principal.subject]
        elif principal.admin:
            device_ids = None
        else:
            device_ids = owned_devices(session, principal.subject)
        found = summaries(session, device_ids)
    items = [
        DeviceBody(
            device_id=d.device_id,
            cameras=d.cameras,
            media_count=d.media_count,
            last_captured_at=d.last_captured_at,
            retention_days=d.retention_days,
        )
        for d in found
    ]
    return Reply(DevicePage(items=items))


def list_owners(call: Call) -> Reply:
    """`GET /v1/devices/{device_id}/owners` (owners and admins)."""
    from common.api.access import require_owner
    from common.db.engine import session_scope
    from common.media.devices import owners

    device_id = call.params["device_id"]
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        items = [OwnerBody(user_id=u, since=at) for u, at in owners(session, device_id)]
    return Reply(OwnerPage(device_id=device_id, items=items))


def add_owner(call: Call) -> Reply:
    """`POST /v1/devices/{device_id}/owners`: 201 when granted, 200 when it was already."""
    from common.api.access import require_owner
    from common.core.errors import NotFound
    from common.core.ids import is_segment
    from common.db.engine import session_scope
    from common.media.devices import grant, owners

    device_id = call.params["device_id"]
    if not is_segment(device_id):
        raise NotFound(f"device {device_id!r} not found")
    request = call.body(OwnerRequest)
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        created = grant(session, device_id, request.user_id)
        items = [OwnerBody(user_id=u, since=at) for u, at in owners(session, device_id)]
    return Reply(OwnerPage(device_id=device_id, items=items), 201 if created else 200)


def remove_owner(call: Call) -> Reply:
    """`DELETE /v1/devices/{device_id}/owners/{user_id}`: 204, also when it was not an owner.
    The shares the removed owner created on the device's media end with them."""
    from common.api.access import require_owner
    from common.db.engine import session_scope
    from common.media.device_tokens import end_shares_of
    from common.media.devices import revoke

    device_id, user_id = call.params["device_id"], call.params["user_id"]
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        if revoke(session, device_id, user_id):
            end_shares_of(session, device_id, f"user:{user_id}", call.principal.actor)
    return Reply(None, 204)


def put_retention(call: Call) -> Reply:
    """`PUT /v1/devices/{device_id}/retention` (owners)."""
    from common.api.access import require_owner
    from common.db.engine import session_scope
    from common.media.devices import set_retention, summaries

    device_id = call.params["device_id"]
    request = call.body(RetentionRequest)
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        set_retention(session, device_id, request.retention_days, call.principal.actor)
        (found,) = summaries(session, [device_id])
    return Reply(
        DeviceBody(
            device_id=found.device_id,
            cameras=found.cameras,
            media_count=found.media_count,
            last_captured_at=found.last_captured_at,
            retention_days=found.retention_days,
        )
    )


def camera_params(call: Call) -> tuple[str, str]:
    """The `(device_id, camera_id)` of a camera route; 404 `not_found` for a camera id that is
    not one path segment of the allowed alphabet."""
    from common.core.errors import NotFound
    from common.core.ids import is_segment

    device_id, camera_id = call.params["device_id"], call.params["camera_id"]
    if not is_segment(camera_id):
        raise NotFound(f"camera {camera_id!r} not found")
    return device_id, camera_id


def get_detection(call: Call) -> Reply:
    """`GET /v1/devices/{device_id}/cameras/{camera_id}/detection`."""
    from common.api.access import require_device
    from common.db.engine import session_scope
    from common.db.models import CameraDetectionConfig

    device_id, camera_id = camera_params(call)
    with session_scope() as session:
        require_device(session, call.principal, device_id)
        row = session.get(CameraDetectionConfig, (device_id, camera_id))
    if row is None:
        return Reply(
            CameraDetection(
                device_id=device_id,
                camera_id=camera_id,
                override={},
                updated_by=None,
                updated_at=None,
            )
        )
    return Reply(_body(row.device_id, row.camera_id, row.config, row.updated_by, row.updated_at))


def _body(
    device_id: str, camera_id: str, config: dict[str, Any], by: str, at: datetime
) -> CameraDetection:
    return CameraDetection(
        device_id=device_id, camera_id=camera_id, override=config, updated_by=by, updated_at=at
    )


def put_detection(call: Call) -> Reply:
    """`PUT /v1/devices/{device_id}/cameras/{camera_id}/detection`: replace the override."""
    from sqlalchemy.dialects.postgresql import insert

    from common.api.access import require_owner
    from common.db.engine import session_scope
    from common.db.models import CameraDetectionConfig
    from common.media.detection_config import check_override

    device_id, camera_id = camera_params(call)
    override = call.body(DetectionOverride).model_dump(exclude_none=True)
    check_override(override)
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        values = {
            "device_id": device_id,
            "camera_id": camera_id,
            "config": override,
            "updated_by": call.principal.actor,
        }
        statement = insert(CameraDetectionConfig).values(**values)
        row = session.execute(
            statement.on_conflict_do_update(
                index_elements=["device_id", "camera_id"],
                set_={
                    "config": override,
                    "updated_by": call.principal.actor,
                    "updated_at": statement.excluded.updated_at,
                },
            ).returning(CameraDetectionConfig)
        ).scalar_one()
        return Reply(
            _body(row.device_id, row.camera_id, row.config, row.updated_by, row.updated_at)
        )


READ_ROUTES = [
    Route(
        "GET",
        "/v1/devices",
        list_devices,
        operation_id="listDevices",
        summary="The devices the caller sees, with cameras, counts and retention",
        responses={200: DevicePage},
        errors=(401,),
    ),
    Route(
        "GET",
        "/v1/devices/<device_id>/owners",
        list_owners,
        operation_id="listOwners",
        summary="A device's owners (owners and admins)",
        responses={200: OwnerPage},
        errors=(401, 403, 404),
    ),
    Route(
        "GET",
        "/v1/devices/<device_id>/cameras/<camera_id>/detection",
        get_detection,
        operation_id="getCameraDetection",
        summary="A camera's detection override (filters, masks) for new media",
        responses={200: CameraDetection},
        errors=(401, 404),
    ),
]

MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/devices/<device_id>/owners",
        add_owner,
        operation_id="addOwner",
        summary="Grant a device to a user (an existing owner or an admin)",
        body=OwnerRequest,
        responses={201: OwnerPage, 200: OwnerPage},
        errors=(400, 401, 403, 404, 422),
    ),
    Route(
        "DELETE",
        "/v1/devices/<device_id>/owners/<path:user_id>",
        remove_owner,
        operation_id="removeOwner",
        summary="Take a device away from a user (the shares they created on it end)",
        responses={204: None},
        errors=(401, 403, 404),
    ),
    Route(
        "PUT",
        "/v1/devices/<device_id>/retention",
        put_retention,
        operation_id="putRetention",
        summary="Set how many days a device's media are kept (0: forever; pinned media stay)",
        body=RetentionRequest,
        responses={200: DeviceBody},
        errors=(400, 401, 403, 404, 422),
    ),
    Route(
        "PUT",
        "/v1/devices/<device_id>/cameras/<camera_id>/detection",
        put_detection,
        operation_id="putCameraDetection",
        summary="Replace a camera's detection override (device owners only)",
        description=(
            "Per-label `filters` (min_score, threshold, min/max area, aspect bounds), "
            "`default_filter`, `masks` (polygons in normalised coordinates where nothing is "
            "reported), `detectors`, `video` sampling and motion options. Validated against the "
            "deployment's defaults; applies to media processed afterwards."
        ),
        body=DetectionOverride,
        responses={200: CameraDetection},
        errors=(400, 401, 403, 404, 422),
    ),
]
