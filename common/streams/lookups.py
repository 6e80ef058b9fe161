"""What a stream reads from Postgres before it starts (blocking; the service, the adapter that owns
the session, runs these on its database threads): who the caller may see, and the row a stream of
one document opens with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.api.access import can_see_device, load_job, load_media
from common.core.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.api.auth import Principal


def media_opening(session: Session, principal: Principal, media_id: str) -> dict[str, Any]:
    """The media row's state, the first event of `GET /v1/media/{id}/events`.

    Raises:
        NotFound: the caller may not see the media (or it does not exist).
    """
    media = load_media(session, principal, media_id)
    return {
        "media_id": media.id,
        "device_id": media.device_id,
        "camera_id": media.camera_id,
        "kind": media.kind,
        "captured_at": media.captured_at,
        "status": media.status,
        "reason_code": media.status_reason_code,
        "reason": media.status_reason,
    }


def job_opening(session: Session, principal: Principal, job_id: str) -> dict[str, Any]:
    """The job row's state, the first event of `GET /v1/jobs/{id}/events`.

    Raises:
        NotFound: the caller may not see the job (or it does not exist).
    """
    from common.media.job_lifecycle import mirror_fields

    return mirror_fields(load_job(session, principal, job_id))


def stream_devices(session: Session, principal: Principal, device_id: str | None) -> list[str]:
    """The devices `GET /v1/events/stream` follows for `principal`.

    A device token follows its own device; a user token the devices it owns (an admin's too:
    an admin names any other device with `device_id`). `device_id` narrows it to that one.

    Raises:
        NotFound: `device_id` is not a device the caller may see.
    """
    from common.media.devices import owned_devices

    if principal.kind == "device":
        own = principal.subject
        if device_id is not None and device_id != own:
            raise NotFound(f"device {device_id!r} not found")
        return [own]
    if device_id is not None:
        if not can_see_device(session, principal, device_id):
            raise NotFound(f"device {device_id!r} not found")
        return [device_id]
    return owned_devices(session, principal.subject)
