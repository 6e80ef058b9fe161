"""Pub/Sub push: the envelope a push subscription POSTs, and the ack / retry policy, in one place.

A push subscription POSTs `{"message": {"data", "attributes", "messageId", "publishTime"},
"subscription", "deliveryAttempt"}` (https://cloud.google.com/pubsub/docs/push;
`deliveryAttempt` is present when the subscription has a dead-letter policy). The endpoint
acknowledges by answering 2xx; any other answer makes Pub/Sub redeliver with the subscription's
backoff until `max_delivery_attempts`, after which the message goes to the dead-letter topic
(https://cloud.google.com/pubsub/docs/handling-failures). So `handle_push`:

- acknowledges poison input (an envelope or data that can never parse, `BadRequest`,
  `PermanentMediaError`) on the first attempt, with one log line: retrying cannot help;
- answers 503 to `TransientError` (redelivered with backoff, bounded by the dead-letter policy);
- answers 500 to anything unexpected, logged with its traceback (also redelivered).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from common.core import context
from common.core.errors import BadRequest, PermanentMediaError, TransientError
from common.core.jsonsafe import loads_bounded

log = logging.getLogger(__name__)

MAX_DATA_DEPTH = 32
"""Deepest JSON nesting accepted in message data (ours is flat)."""


@dataclass(frozen=True)
class PubSubMessage:
    """One Pub/Sub message as pushed.

    Attributes:
        message_id: the Pub/Sub message id.
        data: decoded payload bytes.
        attributes: message attributes.
        publish_time: when Pub/Sub accepted the message (tz-aware UTC), if given.
        delivery_attempt: 1-based delivery attempt (subscriptions with a dead-letter policy).
        subscription: the subscription that pushed it (`projects/P/subscriptions/S`), if given.
    """

    message_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: datetime | None = None
    delivery_attempt: int | None = None
    subscription: str | None = None

    def json(self) -> Any:
        """Decode `data` as JSON (bounded depth).

        Raises:
            BadRequest: not UTF-8 JSON, or nested too deep (poison).
        """
        return loads_bounded(self.data, max_depth=MAX_DATA_DEPTH, what=f"message {self.message_id}")

    @property
    def subscription_id(self) -> str | None:
        """The last path segment of `subscription` (e.g. `finalize-upload`)."""
        return self.subscription.rsplit("/", 1)[-1] if self.subscription else None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as tz-aware UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_push(raw: bytes) -> PubSubMessage:
    """Parse the body of a push request.

    Raises:
        BadRequest: not a push envelope (not JSON, no message, data not base64).
    """
    envelope = loads_bounded(raw, max_depth=8, what="push envelope")
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise BadRequest("push envelope has no message")
    try:
        data = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadRequest("Pub/Sub message data is not base64") from exc
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise BadRequest("Pub/Sub message attributes are not an object")
    attempt = envelope.get("deliveryAttempt")
    subscription = envelope.get("subscription")
    return PubSubMessage(
        message_id=str(message.get("messageId") or message.get("message_id") or ""),
        data=data,
        attributes={str(k): str(v) for k, v in attributes.items()},
        publish_time=parse_time(message.get("publishTime") or message.get("publish_time")),
        delivery_attempt=attempt if isinstance(attempt, int) and attempt > 0 else None,
        subscription=subscription if isinstance(subscription, str) else None,
    )


def handle_push(raw: bytes, handler: Callable[[PubSubMessage], StrEnum]) -> tuple[int, str]:
    """Run `handler` on the pushed message under the policy of the module docstring.

    Args:
        raw: the request body.
        handler: the domain handler; returns an outcome enum (logged).

    Returns:
        The HTTP status to answer (200 acknowledges) and the outcome's name.
    """
    try:
        message = parse_push(raw)
    except BadRequest as exc:
        log.error("acknowledging an undecodable push request: %s", exc.message)
        return 200, "undecodable"
    context.start(
        context.trace_from_headers(message.attributes),
        media_id=message.attributes.get("media_id"),
        job_id=message.attributes.get("job_id"),
    )
    where = f"message {message.message_id} ({message.subscription_id}, attempt {message.delivery_attempt})"
    try:
        outcome = handler(message)
    except (BadRequest, PermanentMediaError) as exc:
        log.error("acknowledging poison %s: %s", where, exc.message)
        return 200, "poison"
    except TransientError as exc:
        log.warning("retrying %s: %s", where, exc.message, exc_info=exc.__cause__ is not None)
        return 503, "retry"
    except Exception:
        log.exception("%s failed", where)
        return 500, "error"
    log.info("%s: %s", where, outcome.value)
    return 200, outcome.value
