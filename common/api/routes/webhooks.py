"""Webhook routes: endpoints users (and admins, for a fleet of devices) register, their
deliveries and replays. docs/CONTRACTS.md, "Webhooks"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.api.routes.media import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from common.core.errors import Forbidden
from common.core.ids import SEGMENT_PATTERN
from common.webhooks.outbox import EVENT_TYPES

EventType = Literal[
    "event.created", "event.updated", "media.processed", "media.failed", "media.rejected"
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
DeliveryStatus = Literal["pending", "succeeded", "failed", "dead_lettered"]
Segment = Field(pattern=SEGMENT_PATTERN)


class WebhookRequest(BaseModel):
    """`POST /v1/webhooks`: where to deliver, what, and (optionally) only which labels and
    cameras; `device_ids` (admins only) makes it a fleet endpoint for those devices."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    labels: list[str] | None = Field(default=None, min_length=1, max_length=32)
    cameras: list[str] | None = Field(default=None, min_length=1, max_length=64)
    device_ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    description: str | None = Field(default=None, max_length=256)


class WebhookBody(schemas.Schema):
    """A registered endpoint (never its secret)."""

    webhook_id: str
    url: str
    events: list[str]
    labels: list[str] | None
    cameras: list[str] | None
    device_ids: list[str] | None
    description: str | None
    enabled: bool
    created_by: str
    created_at: schemas.UtcTime


class NewWebhookBody(WebhookBody):
    """A new endpoint and its signing secret: shown this once, store it now."""

    secret: str


class WebhookPage(schemas.Schema):
    """The caller's endpoints (an admin's: all), newest first."""

    items: list[WebhookBody]


class DeliveryBody(schemas.Schema):
    """One delivery: its payload, status, attempts and the last answer (`response_status`
    null when no HTTP answer came: `error` says why)."""

    delivery_id: str
    webhook_id: str
    event_type: str
    status: str
    attempts: int
    replays: int
    response_status: int | None
    error: str | None
    payload: dict[str, object]
    created_at: schemas.UtcTime
    last_attempt_at: schemas.UtcTime | None
    delivered_at: schemas.UtcTime | None


class DeliveryPage(schemas.Schema):
    """An endpoint's deliveries, newest first."""

    items: list[DeliveryBody]
    next_cursor: str | None


class DeliveryQuery(BaseModel):
    """Paging and a status filter."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=512)
    status: DeliveryStatus | None = None


def _delivery(row: object) -> DeliveryBody:
    from common.db.models import WebhookDelivery

    assert isinstance(row, WebhookDelivery)
    return DeliveryBody(
        delivery_id=row.id,
        webhook_id=row.endpoint_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        replays=row.replays,
        response_status=row.response_status,
        error=row.error,
        payload=row.payload,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
    )


def _user_only(call: Call) -> None:
    if call.principal.kind != "user":
        raise Forbidden("webhooks are registered with a user token", code="user_token_required")


def create_webhook(call: Call) -> Reply:
    """`POST /v1/webhooks`: 201 with the endpoint and its secret (shown once)."""
    from common.db.engine import session_scope
    from common.webhooks.endpoints import NewEndpoint, create, summary

    _user_only(call)
    body = call.body(WebhookRequest)
    if body.device_ids is not None and not call.principal.admin:
        raise Forbidden("only an admin registers an endpoint for devices", code="admin_required")
    from common.core.errors import ValidationError
    from common.core.ids import is_segment

    bad = [c for c in (body.cameras or []) + (body.device_ids or []) if not is_segment(c)]
    if bad:
        raise ValidationError(f"not camera or device ids: {bad[:5]}", code="validation_failed")
    new = NewEndpoint(
        url=body.url,
        event_types=tuple(body.events),
        labels=tuple(label.lower() for label in body.labels) if body.labels else None,
        cameras=tuple(body.cameras) if body.cameras else None,
        device_ids=tuple(body.device_ids) if body.device_ids else None,
        description=body.description,
    )
    with session_scope() as session:
        user_id = None if new.device_ids is not None else call.principal.subject
        endpoint = create(session, new, user_id=user_id, actor=call.principal.actor)
        reply = NewWebhookBody(**summary(endpoint), secret=endpoint.secret)
    return Reply(reply, 201, headers={"Location": f"/v1/webhooks/{reply.webhook_id}"})


def list_webhooks(call: Call) -> Reply:
    """`GET /v1/webhooks`."""
    from common.db.engine import read_scope
    from common.webhooks.endpoints import summary, visible

    _user_only(call)
    with read_scope() as session:
        found = visible(session, user_id=None if call.principal.admin else call.principal.subject)
        return Reply(WebhookPage(items=[WebhookBody(**summary(e)) for e in found]))


def get_webhook(call: Call) -> Reply:
    """`GET /v1/webhooks/{webhook_id}`."""
    from common.api.access import load_webhook
    from common.db.engine import read_scope
    from common.webhooks.endpoints import summary

    with read_scope() as session:
        endpoint = load_webhook(session, call.principal, call.params["webhook_id"])
        return Reply(WebhookBody(**summary(endpoint)))


def delete_webhook(call: Call) -> Reply:
    """`DELETE /v1/webhooks/{webhook_id}`: 204; its deliveries go with it."""
    from common.api.access import load_webhook
    from common.db.engine import session_scope

    with session_scope() as session:
        endpoint = load_webhook(session, call.principal, call.params["webhook_id"])
        session.delete(endpoint)
    return Reply(None, 204)


def list_deliveries(call: Call) -> Reply:
    """`GET /v1/webhooks/{webhook_id}/deliveries`."""
    from common.api.access import load_webhook
    from common.db.engine import read_scope
    from common.webhooks.endpoints import DeliveryFilters, deliveries

    query = call.query(DeliveryQuery)
    with read_scope() as session:
        endpoint = load_webhook(session, call.principal, call.params["webhook_id"])
        rows, cursor = deliveries(
            session,
            DeliveryFilters(endpoint.id, query.status),
            limit=query.limit,
            cursor=query.cursor,
        )
        return Reply(DeliveryPage(items=[_delivery(r) for r in rows], next_cursor=cursor))


def replay_delivery(call: Call) -> Reply:
    """`POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay`: 202, sent again."""
    from common.api.access import load_webhook
    from common.core.errors import NotFound
    from common.db.engine import session_scope
    from common.db.models import WebhookDelivery
    from common.webhooks.deliver import replay
    from common.webhooks.outbox import publish

    delivery_id = call.params["delivery_id"]
    with session_scope() as session:
        endpoint = load_webhook(session, call.principal, call.params["webhook_id"])
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise NotFound(f"delivery {delivery_id!r} not found")
        replay(session, delivery)
        session.flush()
        session.refresh(delivery)
        reply = _delivery(delivery)
    publish([delivery_id])
    return Reply(reply, 202)


_HOOK = "/v1/webhooks/<webhook_id>"

LIST_ROUTES = [
    Route(
        "GET",
        "/v1/webhooks",
        list_webhooks,
        operation_id="listWebhooks",
        summary="The caller's webhook endpoints (an admin's: all)",
        responses={200: WebhookPage},
        errors=(401, 403),
    ),
    Route(
        "GET",
        _HOOK,
        get_webhook,
        operation_id="getWebhook",
        summary="One webhook endpoint",
        responses={200: WebhookBody},
        errors=(401, 404),
    ),
    Route(
        "GET",
        f"{_HOOK}/deliveries",
        list_deliveries,
        operation_id="listWebhookDeliveries",
        summary="An endpoint's deliveries, newest first: status, attempts, last response code",
        query=DeliveryQuery,
        responses={200: DeliveryPage},
        errors=(401, 404, 422),
    ),
]
MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/webhooks",
        create_webhook,
        operation_id="createWebhook",
        summary="Register a webhook endpoint; the answer holds its signing secret, shown once",
        description=(
            "The URL passes the SSRF rules of remote ingest (https only in the cloud; 422 "
            "`url_not_allowed`). `device_ids` is for admins (a fleet endpoint)."
        ),
        body=WebhookRequest,
        responses={201: NewWebhookBody},
        errors=(400, 401, 403, 409, 422),
    ),
    Route(
        "DELETE",
        _HOOK,
        delete_webhook,
        operation_id="deleteWebhook",
        summary="Remove a webhook endpoint and its deliveries",
        responses={204: None},
        errors=(401, 404),
    ),
    Route(
        "POST",
        f"{_HOOK}/deliveries/<delivery_id>/replay",
        replay_delivery,
        operation_id="replayWebhookDelivery",
        summary="Send a delivery again (same id and payload, newly signed)",
        responses={202: DeliveryBody},
        errors=(401, 404),
    ),
]
