"""Ack / retry policy for the Pub/Sub push functions, in one place.

A push endpoint acknowledges by answering 2xx; any other answer makes Pub/Sub redeliver with the
subscription's backoff until `max_delivery_attempts`, after which the message goes to the dead-letter
topic (https://cloud.google.com/pubsub/docs/handling-failures). So:

- poison input (`BadRequest`, `PermanentMediaError`) is logged and acknowledged: retrying cannot help;
- `TransientError` and unexpected exceptions propagate (functions-framework answers 500): retried,
  and bounded by the dead-letter policy, so nothing is retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from common.errors import BadRequest, PermanentMediaError
from common.events import PubSubMessage, message_from_cloud_event

log = logging.getLogger(__name__)

T = TypeVar("T")


def handle_push(cloud_event: Any, handler: Callable[[PubSubMessage], T]) -> T | None:
    """Decode the CloudEvent's Pub/Sub message and run `handler` on it under the policy above.

    Returns:
        The handler's result, or None when the message was acknowledged as poison.
    """
    event_id = str(cloud_event["id"]) if "id" in cloud_event else None
    try:
        message = message_from_cloud_event(cloud_event.data, event_id)
    except BadRequest as exc:
        log.error("acknowledging undecodable event %s: %s", event_id, exc)
        return None
    try:
        return handler(message)
    except (BadRequest, PermanentMediaError) as exc:
        log.error(
            "acknowledging poison message %s (attempt %s): %s",
            message.message_id,
            message.delivery_attempt,
            exc,
        )
        return None
