"""Push router: emulates Pub/Sub push subscriptions, retry policy and dead-lettering on top of an
emulator that only supports pull (pstest).

For each message pulled from a push subscription, `PushDispatcher.deliver` POSTs the JSON body a
real push subscription sends (https://cloud.google.com/pubsub/docs/push, "Receive messages"):

    {"message": {"data": <base64>, "attributes": {...}, "messageId": ..., "message_id": ...,
                 "publishTime": ..., "publish_time": ...},
     "subscription": "projects/P/subscriptions/S", "deliveryAttempt": N}

A 2xx answer acks the message. Anything else (other status, connection error, timeout after the
ack deadline) nacks it with an exponential backoff between the subscription's minimum and maximum
backoff. After `max_delivery_attempts` failed deliveries a subscription with a dead-letter topic
forwards the message there, with the attributes real Pub/Sub adds, and acks the original.

The dispatcher talks to the outside world only through `Backend` (ack / nack / publish),
`Transport` (HTTP POST) and `Clock`, so its retry rules are unit-tested with fakes; the pull loop
that feeds it from the emulator is `emulators.pull_loop`.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

from emulators.topology import SubscriptionSpec

logger = logging.getLogger("emulators.router")

DEAD_LETTER_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"
DEAD_LETTER_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
DEAD_LETTER_SUBSCRIPTION_PROJECT = "CloudPubSubDeadLetterSourceSubscriptionProject"
DEAD_LETTER_PUBLISH_TIME = "CloudPubSubDeadLetterSourceTopicPublishTime"


@dataclass(frozen=True)
class PulledMessage:
    """A message pulled from a subscription.

    Attributes:
        ack_id: Ack id of this delivery.
        message_id: Server-assigned message id (stable across redeliveries).
        data: Message payload bytes.
        attributes: Message attributes.
        publish_time: When the topic received the message (tz-aware UTC).
    """

    ack_id: str
    message_id: str
    data: bytes
    attributes: Mapping[str, str]
    publish_time: datetime


class Backend(Protocol):
    """Pub/Sub operations the dispatcher needs; names are full resource paths."""

    def acknowledge(self, subscription: str, ack_id: str) -> None:
        """Acknowledge one delivery."""

    def nack(self, subscription: str, ack_id: str, delay_seconds: float) -> None:
        """Make the message available for redelivery after `delay_seconds`."""

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Publish one message."""


class Transport(Protocol):
    """HTTP client posting push envelopes."""

    def post(self, url: str, body: Mapping[str, Any], timeout_seconds: float) -> int:
        """POST `body` as JSON and return the HTTP status.

        Raises:
            OSError: The request failed without an HTTP answer (refused, reset, timed out).
        """


class Clock(Protocol):
    """Monotonic time source."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""


class SystemClock:
    """`Clock` backed by `time.monotonic`."""

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()


class HttpTransport:
    """`Transport` using `requests` (imported on first use)."""

    def post(self, url: str, body: Mapping[str, Any], timeout_seconds: float) -> int:
        """POST `body` as JSON; map every `requests` failure to `ConnectionError`."""
        import requests  # lazy: lazy: keep `import emulators.router` cheap

        try:
            response = requests.post(url, json=body, timeout=timeout_seconds)
        except requests.RequestException as exc:
            raise ConnectionError(f"POST {url}: {exc}") from exc
        return response.status_code


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between two bounds, as a subscription's retry policy.

    Attributes:
        minimum_backoff_seconds: Delay after the first failed delivery.
        maximum_backoff_seconds: Upper bound of the delay.
        scale: Multiplier applied to both bounds (e.g. 0.01 in tests).
    """

    minimum_backoff_seconds: float
    maximum_backoff_seconds: float
    scale: float = 1.0

    def backoff_seconds(self, failed_attempts: int) -> float:
        """Delay before redelivery after `failed_attempts` (>= 1) failed deliveries.

        Returns:
            min(maximum, minimum * 2 ** (failed_attempts - 1)) * scale, in seconds.
        """
        exponent = max(failed_attempts - 1, 0)
        unscaled = min(
            self.maximum_backoff_seconds,
            self.minimum_backoff_seconds * 2.0 ** min(exponent, 62),
        )
        return max(unscaled, self.minimum_backoff_seconds) * self.scale


class Outcome(Enum):
    """What the dispatcher did with one delivery."""

    ACKED = "acked"
    NACKED = "nacked"
    DEAD_LETTERED = "dead-lettered"


@dataclass(frozen=True)
class DeliveryResult:
    """Result of one delivery attempt.

    Attributes:
        outcome: Ack, nack or dead-letter.
        attempt: Delivery attempt number (1 for the first delivery).
        status: HTTP status, or None when the request got no answer.
        elapsed_ms: Duration of the POST in milliseconds.
        backoff_seconds: Redelivery delay when nacked, else None.
    """

    outcome: Outcome
    attempt: int
    status: int | None
    elapsed_ms: float
    backoff_seconds: float | None = None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as push envelopes carry it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_envelope(message: PulledMessage, subscription_path: str, attempt: int) -> dict[str, Any]:
    """Return the JSON body of a Pub/Sub push request for `message`.

    Args:
        message: The pulled message.
        subscription_path: `projects/P/subscriptions/S`.
        attempt: Delivery attempt number, starting at 1.

    Returns:
        The envelope, with both camelCase and snake_case id/time keys as real push sends them.
    """
    published = format_timestamp(message.publish_time)
    return {
        "message": {
            "data": base64.b64encode(message.data).decode("ascii"),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "message_id": message.message_id,
            "publishTime": published,
            "publish_time": published,
        },
        "subscription": subscription_path,
        "deliveryAttempt": attempt,
    }


class PushDispatcher:
    """Delivers messages of one push subscription to its push endpoint.

    Thread-safe: several deliveries of one subscription may run concurrently.

    Args:
        spec: The subscription.
        project: Project id of the subscription and topics.
        endpoint: Push endpoint URL.
        backend: Pub/Sub operations.
        transport: HTTP client.
        clock: Time source for durations.
        backoff_scale: Multiplier for the retry policy bounds.
        log: Logger of deliveries (default `emulators.router`); also used by the route's queue.
    """

    def __init__(
        self,
        spec: SubscriptionSpec,
        *,
        project: str,
        endpoint: str,
        backend: Backend,
        transport: Transport,
        clock: Clock | None = None,
        backoff_scale: float = 1.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.spec = spec
        self.log = log or logger
        self.project = project
        self.endpoint = endpoint
        self.subscription_path = f"projects/{project}/subscriptions/{spec.name}"
        self.retry = RetryPolicy(
            spec.minimum_backoff_seconds, spec.maximum_backoff_seconds, backoff_scale
        )
        self._backend = backend
        self._transport = transport
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}

    def attempts(self, message_id: str) -> int:
        """Delivery attempts counted so far for a message still pending."""
        with self._lock:
            return self._attempts.get(message_id, 0)

    def _next_attempt(self, message_id: str) -> int:
        with self._lock:
            attempt = self._attempts.get(message_id, 0) + 1
            self._attempts[message_id] = attempt
            return attempt

    def _forget(self, message_id: str) -> None:
        with self._lock:
            self._attempts.pop(message_id, None)

    def deliver(self, message: PulledMessage) -> DeliveryResult:
        """POST one pulled message to the endpoint, then ack, nack or dead-letter it.

        Returns:
            What happened; also logged on `emulators.router`.
        """
        attempt = self._next_attempt(message.message_id)
        envelope = build_envelope(message, self.subscription_path, attempt)
        started = self._clock.monotonic()
        status: int | None
        error = ""
        try:
            status = self._transport.post(
                self.endpoint, envelope, float(self.spec.ack_deadline_seconds)
            )
        except OSError as exc:
            status, error = None, str(exc)
        elapsed_ms = (self._clock.monotonic() - started) * 1000.0
        if status is not None and 200 <= status < 300:
            self._backend.acknowledge(self.subscription_path, message.ack_id)
            self._forget(message.message_id)
            result = DeliveryResult(Outcome.ACKED, attempt, status, elapsed_ms)
        elif self.spec.dead_letter_topic and attempt >= self.spec.max_delivery_attempts:
            result = self._dead_letter(message, attempt, status, elapsed_ms)
        else:
            result = self._nack(message, attempt, status, elapsed_ms)
        self.log.info(
            "delivery subscription=%s message_id=%s attempt=%d status=%s ms=%.0f outcome=%s%s%s",
            self.spec.name,
            message.message_id,
            attempt,
            status if status is not None else "error",
            elapsed_ms,
            result.outcome.value,
            f" backoff_s={result.backoff_seconds:.3f}" if result.backoff_seconds else "",
            f" error={error!r}" if error else "",
        )
        return result

    def _nack(
        self, message: PulledMessage, attempt: int, status: int | None, elapsed_ms: float
    ) -> DeliveryResult:
        backoff = self.retry.backoff_seconds(attempt)
        self._backend.nack(self.subscription_path, message.ack_id, backoff)
        return DeliveryResult(Outcome.NACKED, attempt, status, elapsed_ms, backoff)

    def _dead_letter(
        self, message: PulledMessage, attempt: int, status: int | None, elapsed_ms: float
    ) -> DeliveryResult:
        topic = f"projects/{self.project}/topics/{self.spec.dead_letter_topic}"
        attributes = {
            **message.attributes,
            DEAD_LETTER_DELIVERY_COUNT: str(attempt),
            DEAD_LETTER_SUBSCRIPTION: self.spec.name,
            DEAD_LETTER_SUBSCRIPTION_PROJECT: self.project,
            DEAD_LETTER_PUBLISH_TIME: format_timestamp(message.publish_time),
        }
        try:
            self._backend.publish(topic, message.data, attributes)
        except Exception:
            # Keep the message rather than lose it; the next failure tries the forward again.
            self.log.exception(
                "dead-letter publish failed subscription=%s message_id=%s topic=%s",
                self.spec.name,
                message.message_id,
                topic,
            )
            return self._nack(message, attempt, status, elapsed_ms)
        self._backend.acknowledge(self.subscription_path, message.ack_id)
        self._forget(message.message_id)
        return DeliveryResult(Outcome.DEAD_LETTERED, attempt, status, elapsed_ms)
