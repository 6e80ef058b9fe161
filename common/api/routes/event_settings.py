"""A camera's event settings: which labels make events, the minimum score, event clips
(`GET` list_media, `PUT` manage_media). docs/CONTRACTS.md, "Events"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.api.routes.devices import camera_params
from common.media.events.settings import DEFAULT_EVENT_LABELS, MAX_CLIP_PADDING_MS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class EventSettingsBody(BaseModel):
    """A camera's event settings (`PUT` replaces them)."""

    model_config = ConfigDict(extra="forbid")

    labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVENT_LABELS), min_length=0, max_length=32
    )
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    clips: bool = False
    clip_pre_ms: int = Field(default=5000, ge=0, le=MAX_CLIP_PADDING_MS)
    clip_post_ms: int = Field(default=5000, ge=0, le=MAX_CLIP_PADDING_MS)


class CameraEventSettingsBody(schemas.Schema):
    """A camera's event settings as they apply (the defaults when nobody set them)."""

    device_id: str
    camera_id: str
    labels: list[str]
    min_score: float | None
    clips: bool
    clip_pre_ms: int
    clip_post_ms: int


def _settings_body(device_id: str, camera_id: str, session: Session) -> CameraEventSettingsBody:
    from common.media.events.settings import settings_for

    found = settings_for(session, device_id, camera_id)
    return CameraEventSettingsBody(
        device_id=device_id,
        camera_id=camera_id,
        labels=list(found.labels),
        min_score=found.min_score,
        clips=found.clips,
        clip_pre_ms=found.clip_pre_ms,
        clip_post_ms=found.clip_post_ms,
    )


def get_event_settings(call: Call) -> Reply:
    """`GET /v1/devices/{device_id}/cameras/{camera_id}/event-settings`."""
    from common.api.access import require_device
    from common.db.engine import read_scope

    device_id, camera_id = camera_params(call)
    with read_scope() as session:
        require_device(session, call.principal, device_id)
        return Reply(_settings_body(device_id, camera_id, session))


def put_event_settings(call: Call) -> Reply:
    """`PUT /v1/devices/{device_id}/cameras/{camera_id}/event-settings` (owners)."""
    from common.api.access import require_owner
    from common.db.engine import session_scope
    from common.media.events.settings import EventSettings, save_settings

    device_id, camera_id = camera_params(call)
    body = call.body(EventSettingsBody)
    labels = tuple(dict.fromkeys(label.strip().lower() for label in body.labels if label.strip()))
    with session_scope() as session:
        require_owner(session, call.principal, device_id)
        save_settings(
            session,
            device_id,
            camera_id,
            EventSettings(labels, body.min_score, body.clips, body.clip_pre_ms, body.clip_post_ms),
            call.principal.actor,
        )
        return Reply(_settings_body(device_id, camera_id, session))


_SETTINGS = "/v1/devices/<device_id>/cameras/<camera_id>/event-settings"

LIST_ROUTES = [
    Route(
        "GET",
        _SETTINGS,
        get_event_settings,
        operation_id="getCameraEventSettings",
        summary="A camera's event settings (labels, minimum score, event clips)",
        responses={200: CameraEventSettingsBody},
        errors=(401, 404),
    ),
]
MANAGE_ROUTES = [
    Route(
        "PUT",
        _SETTINGS,
        put_event_settings,
        operation_id="putCameraEventSettings",
        summary="Replace a camera's event settings (owners)",
        description="Applies to media processed after it is set.",
        body=EventSettingsBody,
        responses={200: CameraEventSettingsBody},
        errors=(400, 401, 403, 404, 422),
    ),
]
