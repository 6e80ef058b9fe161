"""Registering webhook endpoints and reading their deliveries (authorization is the caller's:
`common.api.access.load_webhook`).

An endpoint's URL passes the same rules as a URL handed over for ingest (`common.fetch`): https
only (`WEBHOOK_ALLOW_HTTP` lets http through on the local stack), no userinfo, no internal names
or non-public address literals; the addresses its name resolves to are checked on every delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.core.errors import Conflict, ValidationError
from common.core.ids import new_id
from common.webhooks import signing
from common.webhooks.outbox import ENDPOINT_PREFIX, EVENT_TYPES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class NewEndpoint:
    """What a caller registers.

    Attributes:
        url: where deliveries go.
        event_types: what it hears of (`EVENT_TYPES`).
        labels: only events of these labels (None: all).
        cameras: only these cameras (None: all).
        device_ids: an admin's fleet endpoint: these devices (None: a user's endpoint).
        description: for people.
    """

    url: str
    event_types: tuple[str, ...]
    labels: tuple[str, ...] | None = None
    cameras: tuple[str, ...] | None = None
    device_ids: tuple[str, ...] | None = None
    description: str | None = None


def check_url(url: str) -> str:
    """The canonical URL, or 422 `url_not_allowed` (`details.reason`)."""
    from common.fetch.client import validate_url
    from common.webhooks.deliver import policy

    return validate_url(url, policy=policy())


def create(
    session: Session, new: NewEndpoint, *, user_id: str | None, actor: str
) -> WebhookEndpoint:
    """Register an endpoint (caller's transaction); its `secret` is readable this once.

    Raises:
        UrlNotAllowed: the URL breaks the rules (422 `url_not_allowed`).
        ValidationError: an unknown event type (422).
        Conflict: the owner has `WEBHOOK_MAX_ENDPOINTS_PER_OWNER` already (409 `too_many_endpoints`).
    """
    from sqlalchemy import func, select

    from common.core.settings import get_settings
    from common.db.models import WebhookEndpoint

    unknown = sorted(set(new.event_types) - set(EVENT_TYPES))
    if unknown or not new.event_types:
        raise ValidationError(
            f"unknown event types: {', '.join(unknown) or 'none given'}",
            code="validation_failed",
            details={"event_types": list(EVENT_TYPES)},
        )
    url = check_url(new.url)
    owned = session.execute(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.created_by == actor)
    ).scalar_one()
    limit = get_settings().webhook_max_endpoints_per_owner
    if owned >= limit:
        raise Conflict(f"at most {limit} webhook endpoints each", code="too_many_endpoints")
    endpoint = WebhookEndpoint(
        id=new_id(ENDPOINT_PREFIX),
        user_id=user_id,
        device_ids=list(new.device_ids) if new.device_ids is not None else None,
        url=url,
        event_types=sorted(set(new.event_types)),
        labels=sorted(set(new.labels)) if new.labels is not None else None,
        cameras=sorted(set(new.cameras)) if new.cameras is not None else None,
        description=new.description,
        secret=signing.new_secret(),
        enabled=True,
        created_by=actor,
    )
    session.add(endpoint)
    session.flush()
    session.refresh(endpoint)
    return endpoint


def visible(session: Session, *, user_id: str | None) -> list[WebhookEndpoint]:
    """A user's endpoints (None: every endpoint, for an admin), newest first."""
    from sqlalchemy import select

    from common.db.models import WebhookEndpoint

    query = select(WebhookEndpoint).order_by(
        WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc()
    )
    if user_id is not None:
        query = query.where(WebhookEndpoint.user_id == user_id)
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class DeliveryFilters:
    """Filters of an endpoint's deliveries."""

    endpoint_id: str
    status: str | None = None

    def fingerprint(self) -> str:
        """Names these filters (cursor binding)."""
        return f"{self.endpoint_id}:{self.status or ''}"


def deliveries(
    session: Session, filters: DeliveryFilters, *, limit: int, cursor: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """An endpoint's deliveries, newest first, in keyset pages on `(created_at, id)`.

    Raises:
        ValidationError: a bad cursor or one of another listing.
    """
    from sqlalchemy import select, tuple_

    from common.core.cursor import decode_cursor, encode_cursor
    from common.db.models import WebhookDelivery

    d = WebhookDelivery
    query = select(d).where(d.endpoint_id == filters.endpoint_id)
    if filters.status is not None:
        query = query.where(d.status == filters.status)
    if cursor:
        after: tuple[datetime, str] = decode_cursor(cursor, filters)
        query = query.where(tuple_(d.created_at, d.id) < after)
    rows = list(
        session.execute(query.order_by(d.created_at.desc(), d.id.desc()).limit(limit + 1)).scalars()
    )
    page = rows[:limit]
    more = len(rows) > limit and page
    return page, encode_cursor(page[-1].created_at, page[-1].id, filters) if more else None


def summary(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint's fields a caller may read (never the secret)."""
    return {
        "webhook_id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "labels": endpoint.labels,
        "cameras": endpoint.cameras,
        "device_ids": endpoint.device_ids,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "created_by": endpoint.created_by,
        "created_at": endpoint.created_at,
    }
