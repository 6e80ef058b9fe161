"""Sending one webhook delivery, recording each attempt, and the delivery state machine.

`deliver_webhook` (a Pub/Sub push function) calls `handle_message` for every message of the
`deliver-webhook` subscription: it loads the delivery and its endpoint, POSTs the payload signed
(`common.webhooks.signing`) to the endpoint's URL under the SSRF rules of `common.fetch`, and
records the attempt. A 2xx answer ends it `succeeded`; anything else (another status, a timeout,
a refused connection) raises `TransientError`, so Pub/Sub redelivers it with the subscription's
backoff until `max_delivery_attempts`, after which the message goes to `webhook-dead-letter`,
whose push subscription (`webhook-dead-letter-handler`, same function) ends it `dead_lettered`.
A URL the SSRF rules refuse ends it `failed` at once (retrying cannot help), as does a disabled
or deleted endpoint.

Status: `pending -> succeeded | failed | dead_lettered`; a replay (`replay()`) takes any of them
back to `pending` (`TRANSITIONS`, applied only by `_transition`).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from common.core.errors import BadRequest, FetchFailed, TransientError, UrlNotAllowed
from common.core.ids import is_valid_id
from common.webhooks import signing
from common.webhooks.outbox import DELIVERY_PREFIX

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import WebhookDelivery, WebhookEndpoint
    from common.events.envelope import PubSubMessage
    from common.fetch.policy import FetchPolicy

log = logging.getLogger(__name__)

TRANSITIONS: Final = {
    "pending": frozenset({"pending", "succeeded", "failed", "dead_lettered"}),
    "succeeded": frozenset({"pending"}),
    "failed": frozenset({"pending"}),
    "dead_lettered": frozenset({"pending"}),
}
DEAD_LETTER_SUBSCRIPTION: Final = "webhook-dead-letter-handler"


class DeliveryOutcome(StrEnum):
    """What handling one delivery message amounted to."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown_delivery"


def _transition(delivery: WebhookDelivery, status: str, **fields: Any) -> bool:
    """Apply a status change (and `fields`) when `TRANSITIONS` allows it; False: a no-op."""
    if status not in TRANSITIONS[delivery.status]:
        log.info("delivery %s: %s -> %s is a no-op", delivery.id, delivery.status, status)
        return False
    delivery.status = status
    for name, value in fields.items():
        setattr(delivery, name, value)
    return True


def policy() -> FetchPolicy:
    """The SSRF rules and limits of a delivery POST (`WEBHOOK_*` settings)."""
    from common.core.settings import get_settings
    from common.fetch.policy import FetchPolicy

    settings = get_settings()
    return FetchPolicy(
        allow_http=settings.webhook_allow_http,
        connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
        total_timeout_seconds=settings.webhook_timeout_seconds,
        max_redirects=0,
        allow_loopback_for_tests=settings.webhook_allow_loopback_for_tests,
        user_agent="media-pipeline-webhooks/1",
    )


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _load(session: Session, delivery_id: str) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    from common.db.models import WebhookDelivery, WebhookEndpoint

    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # deliveries go with their endpoint (ON DELETE CASCADE)
    return delivery, endpoint


def _send(delivery_id: str) -> tuple[int | None, str | None, bool]:
    """POST the delivery once; (status, error, refused for good). Database read only."""
    from common.db.engine import session_scope
    from common.fetch.post import post

    with session_scope() as session:
        found = _load(session, delivery_id)
        if found is None:
            return None, "unknown", True
        delivery, endpoint = found
        if delivery.status != "pending":
            return None, "duplicate", True
        if not endpoint.enabled:
            return None, "endpoint_disabled", True
        url, secret, payload = endpoint.url, endpoint.secret, dict(delivery.payload)
        event_type = delivery.event_type
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        signing.DELIVERY_ID_HEADER: delivery_id,
        signing.EVENT_TYPE_HEADER: event_type,
        signing.SIGNATURE_HEADER: signing.signature_header(secret, int(time.time()), body),
    }
    try:
        answer = post(url, body, headers, policy=policy())
    except UrlNotAllowed as exc:
        reason = exc.details.get("reason") if isinstance(exc.details, dict) else None
        return None, f"url_not_allowed: {reason or exc.message}", True
    except FetchFailed as exc:
        reason = exc.details.get("reason") if isinstance(exc.details, dict) else None
        return None, f"fetch_failed: {reason or exc.message}", False
    return answer.status, None, False


def deliver(delivery_id: str) -> DeliveryOutcome:
    """Send one pending delivery and record the attempt (module docstring).

    Raises:
        TransientError: the receiver did not answer 2xx, or the database is unavailable (retry).
    """
    from common.db.engine import session_scope

    status, error, final = _send(delivery_id)
    if error in ("unknown", "duplicate"):
        return DeliveryOutcome.UNKNOWN if error == "unknown" else DeliveryOutcome.DUPLICATE
    now = datetime.now(UTC)
    succeeded = status is not None and 200 <= status < 300
    with session_scope() as session:
        found = _load(session, delivery_id)
        if found is None:
            return DeliveryOutcome.UNKNOWN
        delivery, _ = found
        attempt = {
            "attempts": delivery.attempts + (0 if error == "endpoint_disabled" else 1),
            "last_attempt_at": now,
            "response_status": status,
            "error": error,
        }
        if succeeded:
            _transition(delivery, "succeeded", delivered_at=now, **attempt)
            return DeliveryOutcome.SUCCEEDED
        if final:
            _transition(delivery, "failed", **attempt)
            log.warning("delivery %s failed for good: %s", delivery_id, error)
            return DeliveryOutcome.FAILED
        _transition(delivery, "pending", **attempt)
    raise TransientError(
        f"delivery {delivery_id}: the endpoint answered "
        + (f"HTTP {status}" if status is not None else str(error))
    )


def dead_letter(delivery_id: str) -> DeliveryOutcome:
    """End a delivery whose message exhausted its delivery attempts `dead_lettered`."""
    from common.db.engine import session_scope
    from common.observe.events import log_event

    with session_scope() as session:
        found = _load(session, delivery_id)
        if found is None:
            return DeliveryOutcome.UNKNOWN
        delivery, _ = found
        if delivery.status != "pending":
            return DeliveryOutcome.DUPLICATE
        _transition(delivery, "dead_lettered")
    log_event("webhook.dead_lettered", severity=logging.WARNING, delivery_id=delivery_id)
    return DeliveryOutcome.DEAD_LETTERED


def replay(session: Session, delivery: WebhookDelivery) -> None:
    """Queue a delivery again, whatever its status (same id and payload: the receiver's dedupe
    still works); the caller publishes it after committing."""
    _transition(delivery, "pending", replays=delivery.replays + 1)


def handle_message(message: PubSubMessage) -> DeliveryOutcome:
    """deliver_webhook: a `{"delivery_id"}` message from `deliver-webhook`, or the same message
    dead-lettered, from `webhook-dead-letter-handler`.

    Raises:
        BadRequest: no valid delivery id (poison: acknowledged).
        TransientError: see `deliver`.
    """
    payload = message.json()
    delivery_id = payload.get("delivery_id") if isinstance(payload, dict) else None
    if not isinstance(delivery_id, str) or not is_valid_id(delivery_id, DELIVERY_PREFIX):
        raise BadRequest("webhook delivery message has no valid delivery_id")
    if message.subscription_id and message.subscription_id.endswith(DEAD_LETTER_SUBSCRIPTION):
        return dead_letter(delivery_id)
    return deliver(delivery_id)
