"""list_media's device routes: per-camera detection settings (owners only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route


class DetectionOverride(BaseModel):
    """A camera's detection override, merged into the deployment's defaults for new media.

    Fields are those of `common.processing.AnalysisConfig` that may vary per camera; see
    docs/CONTRACTS.md, "Detection settings per camera".
    """

    model_config = ConfigDict(extra="forbid")

    filters: dict[str, dict[str, Any]] | None = None
    default_filter: dict[str, Any] | None = None
    masks: list[dict[str, Any]] | None = Field(default=None, max_length=32)
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


def _camera(call: Call) -> tuple[str, str]:
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

    device_id, camera_id = _camera(call)
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

    device_id, camera_id = _camera(call)
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
