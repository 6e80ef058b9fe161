"""Who may see what: the one home of authorization for media, jobs and devices.

A device token sees its own device's media; a user token sees the devices the `device_owners`
table gives it, and may manage them (an admin user token, claim `"admin": true`, sees and manages
every device). Anything not visible is answered exactly as if it did not exist (404 `not_found`),
so ids of other devices' media are never confirmed. Malformed ids are not found either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.core.errors import NotFound
from common.core.ids import JOB_PREFIX, MEDIA_PREFIX, is_segment, is_valid_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.api.auth import Principal
    from common.db.models import Event, Job, MediaObject, WebhookEndpoint


def can_see_device(session: Session, principal: Principal, device_id: str) -> bool:
    """Tell whether `principal` may see `device_id`'s media."""
    from sqlalchemy import select

    from common.db.models import DeviceOwner

    if principal.kind == "device":
        return principal.subject == device_id
    if not is_segment(device_id):
        return False
    if principal.admin:
        return True
    owner = session.execute(
        select(DeviceOwner.device_id).where(
            DeviceOwner.user_id == principal.subject, DeviceOwner.device_id == device_id
        )
    ).first()
    return owner is not None


def require_device(session: Session, principal: Principal, device_id: str) -> None:
    """Raise NotFound unless `principal` may see `device_id`."""
    if not is_segment(device_id) or not can_see_device(session, principal, device_id):
        raise NotFound(f"device {device_id!r} not found")


def is_owner(session: Session, principal: Principal, device_id: str) -> bool:
    """Tell whether `principal` may manage `device_id`: a user owning it, or an admin."""
    if principal.kind != "user":
        return False
    return principal.admin or can_see_device(session, principal, device_id)


def require_owner(session: Session, principal: Principal, device_id: str) -> None:
    """Raise unless `principal` owns `device_id` (or is an admin).

    Raises:
        NotFound: the caller cannot see the device at all.
        Forbidden: the caller sees it but may not manage it (its own device token).
    """
    from common.core.errors import Forbidden

    if is_owner(session, principal, device_id):
        return
    require_device(session, principal, device_id)
    raise Forbidden("only an owner of the device may change this", code="owner_required")


def load_media(
    session: Session, principal: Principal, media_id: str, *, lock: bool = False
) -> MediaObject:
    """Load a media row the caller may see (locked `FOR UPDATE` when `lock`).

    Raises:
        NotFound: malformed id, missing, or another device's media (never confirmed to exist).
    """
    from common.db.repo import get_media

    if not is_valid_id(media_id, MEDIA_PREFIX):
        raise NotFound(f"media {media_id!r} not found")
    media = get_media(session, media_id, lock=lock)
    if not can_see_device(session, principal, media.device_id):
        raise NotFound(f"media {media_id!r} not found")
    return media


def load_job(session: Session, principal: Principal, job_id: str) -> Job:
    """Load a job whose source media the caller may see (an ingest's: whose device it is for).

    Raises:
        NotFound: malformed id, no such job, or its media (device) is not visible (404).
    """
    from common.db.repo import get_job

    if not is_valid_id(job_id, JOB_PREFIX):
        raise NotFound(f"job {job_id!r} not found")
    job = get_job(session, job_id)
    if job.media_id is None:  # an ingest: whose it is, is its device
        if not can_see_device(session, principal, job.device_id):
            raise NotFound(f"job {job_id!r} not found")
        return job
    try:
        load_media(session, principal, job.media_id)
    except NotFound as exc:
        raise NotFound(f"job {job_id!r} not found") from exc
    return job


def load_event(
    session: Session, principal: Principal, event_id: str, *, lock: bool = False
) -> Event:
    """Load an event of a device the caller may see (locked `FOR UPDATE` when `lock`).

    Raises:
        NotFound: malformed id, missing, or another device's event.
    """
    from common.db.models import Event
    from common.media.events.build import EVENT_PREFIX

    event = (
        session.get(Event, event_id, with_for_update=lock)
        if is_valid_id(event_id, EVENT_PREFIX)
        else None
    )
    if event is None or not can_see_device(session, principal, event.device_id):
        raise NotFound(f"event {event_id!r} not found")
    return event


def load_webhook(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Load a webhook endpoint the caller manages: a user's own, or any for an admin.

    Raises:
        NotFound: malformed id, missing, or someone else's (never confirmed to exist).
    """
    from common.db.models import WebhookEndpoint
    from common.webhooks.outbox import ENDPOINT_PREFIX

    endpoint = (
        session.get(WebhookEndpoint, endpoint_id)
        if principal.kind == "user" and is_valid_id(endpoint_id, ENDPOINT_PREFIX)
        else None
    )
    if endpoint is None or not (principal.admin or endpoint.user_id == principal.subject):
        raise NotFound(f"webhook endpoint {endpoint_id!r} not found")
    return endpoint
