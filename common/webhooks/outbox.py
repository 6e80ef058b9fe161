"""Queueing webhook deliveries in the caller's transaction, and handing them to Pub/Sub after it.

`enqueue()` writes one `webhook_deliveries` row per endpoint that subscribes to what happened
(type, device, camera, label), inside the transaction that records it (the analysis that made an
event, the status change of a media): the delivery exists exactly when the fact does. Its
`dedupe_key` (`<type>:<subject>`) makes a replayed notification queue nothing new. `publish()`
runs after the commit and publishes `{"delivery_id"}` to `WEBHOOK_DELIVERIES_TOPIC`; a publish
that fails leaves the delivery `pending`, and the reconciler publishes it again
(`stale_pending`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from common.core.errors import TransientError
from common.core.ids import new_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DELIVERY_PREFIX: Final = "whd"
ENDPOINT_PREFIX: Final = "whk"
EVENT_TYPES: Final = (
    "event.created",
    "event.updated",
    "media.processed",
    "media.failed",
    "media.rejected",
)
"""What an endpoint may subscribe to (docs/CONTRACTS.md, "Webhooks")."""
MESSAGE_KIND: Final = "webhook_delivery"


def _matching_endpoints(
    session: Session, event_type: str, device_id: str, camera_id: str, label: str | None
) -> list[str]:
    from sqlalchemy import and_, or_, select

    from common.db.models import DeviceOwner, WebhookEndpoint

    e = WebhookEndpoint
    owners = select(DeviceOwner.user_id).where(DeviceOwner.device_id == device_id)
    fleet = and_(
        e.user_id.is_(None), or_(e.device_ids.is_(None), e.device_ids.contains([device_id]))
    )
    query = select(e.id).where(
        e.enabled.is_(True),
        e.event_types.contains([event_type]),
        or_(e.user_id.in_(owners.scalar_subquery()), fleet),
        or_(e.cameras.is_(None), e.cameras.contains([camera_id])),
    )
    if label is not None:
        query = query.where(or_(e.labels.is_(None), e.labels.contains([label])))
    return list(session.execute(query.order_by(e.id)).scalars())


def enqueue(
    session: Session,
    event_type: str,
    subject_id: str,
    *,
    device_id: str,
    camera_id: str,
    label: str | None,
    data: Mapping[str, Any],
) -> list[str]:
    """Queue a delivery of `data` to every endpoint that subscribes to it (caller's transaction).

    Args:
        session: the transaction that records what happened.
        event_type: one of `EVENT_TYPES`.
        subject_id: what it is about (an event id, a media id, or `<event id>:<media id>` for
            an event continued by a recording); with the type, the dedupe key.
        device_id: the device it concerns (whose owners' endpoints hear of it).
        camera_id: its camera (endpoints may narrow to cameras).
        label: the event's label (endpoints may narrow to labels); None for media types.
        data: the JSON-safe `data` of the payload.

    Returns:
        The ids of deliveries queued now (none for a replay: already queued).
    """
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import WebhookDelivery

    endpoints = _matching_endpoints(session, event_type, device_id, camera_id, label)
    queued: list[str] = []
    created_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for endpoint_id in endpoints:
        delivery_id = new_id(DELIVERY_PREFIX)
        payload = {"id": delivery_id, "type": event_type, "created_at": created_at, "data": data}
        statement = (
            insert(WebhookDelivery)
            .values(
                id=delivery_id,
                endpoint_id=endpoint_id,
                event_type=event_type,
                dedupe_key=f"{event_type}:{subject_id}"[:128],
                device_id=device_id,
                payload=payload,
            )
            .on_conflict_do_nothing(constraint="uq_webhook_deliveries_endpoint_key")
            .returning(WebhookDelivery.id)
        )
        if session.execute(statement).scalar() is not None:
            queued.append(delivery_id)
    return queued


def publish(delivery_ids: Iterable[str]) -> None:
    """Hand deliveries to Pub/Sub (after the commit that queued them). Never raises: a delivery
    whose publish failed stays `pending` and the reconciler publishes it again."""
    from common.core.settings import get_settings
    from common.events.publish import publish_json

    topic = get_settings().webhook_deliveries_topic
    for delivery_id in delivery_ids:
        try:
            publish_json(topic, {"delivery_id": delivery_id}, kind=MESSAGE_KIND)
        except TransientError:
            log.warning("delivery %s stays pending: publish failed", delivery_id, exc_info=True)


def stale_pending(session: Session, *, older_than_seconds: float, limit: int) -> list[str]:
    """Pending deliveries queued more than `older_than_seconds` ago and not attempted since
    (their publish was lost), oldest first: the reconciler publishes them again. A delivery
    attempted since it was queued is in Pub/Sub's retries, which end in success or a dead
    letter."""
    from sqlalchemy import or_, select

    from common.db.models import WebhookDelivery

    d = WebhookDelivery
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
    return list(
        session.execute(
            select(d.id)
            .where(
                d.status == "pending",
                d.updated_at < cutoff,
                or_(d.last_attempt_at.is_(None), d.last_attempt_at < d.updated_at),
            )
            .order_by(WebhookDelivery.updated_at)
            .limit(limit)
        ).scalars()
    )
