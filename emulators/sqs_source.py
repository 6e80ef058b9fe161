"""S3 events to push: long-polls the SQS queue that moto fills with the uploads bucket's
ObjectCreated events and feeds them to a push route as Pub/Sub-shaped messages.

Each SQS message becomes a push envelope exactly like the other push subscriptions':
`message.data` = base64 of the SQS body (the S3 event JSON `{"Records": [...]}`),
`message.attributes` = `{"payloadFormat": "S3_EVENT_JSON"}`, `message.messageId` = the SQS
MessageId, `publishTime` = its SentTimestamp. A 2xx deletes the SQS message; a failure makes it
visible again after the route's backoff (ChangeMessageVisibility); after the last attempt it goes
to the route's Pub/Sub dead-letter topic. moto's `s3:TestEvent` (sent when the notification is
configured) is deleted, never pushed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from emulators.delivery import DelayedNacks, DeliveryQueue
from emulators.router import Backend, PulledMessage

logger = logging.getLogger("emulators.router")

PAYLOAD_FORMAT = "S3_EVENT_JSON"
TEST_EVENT = "s3:TestEvent"
# A receive returns as soon as a message arrives, so the wait costs no latency; it only sets how
# often an idle queue is asked (one line in logs/s3.log each time).
LONG_POLL_SECONDS = 5
STOP_JOIN_SECONDS = 1.0  # stop() abandons a receive still waiting; moto's stop ends it
MAX_MESSAGES_PER_RECEIVE = 10  # SQS maximum
ERROR_PAUSE_SECONDS = 1.0


def is_test_event(body: str) -> bool:
    """Whether an SQS body is S3's `s3:TestEvent` (not an object event)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("Event") == TEST_EVENT


def s3_event_message(sqs_message: Mapping[str, Any]) -> PulledMessage:
    """The message pushed for one SQS message of `ReceiveMessage`.

    Args:
        sqs_message: One entry of `Messages` (`MessageId`, `ReceiptHandle`, `Body`, optionally
            `Attributes.SentTimestamp` in epoch milliseconds).

    Returns:
        A message whose ack id is the receipt handle and whose data is the body's UTF-8 bytes.
    """
    sent_ms = sqs_message.get("Attributes", {}).get("SentTimestamp")
    sent = (
        datetime.fromtimestamp(int(sent_ms) / 1000, tz=UTC)
        if sent_ms is not None
        else datetime.now(UTC)
    )
    return PulledMessage(
        ack_id=sqs_message["ReceiptHandle"],
        message_id=sqs_message["MessageId"],
        data=str(sqs_message["Body"]).encode(),
        attributes={"payloadFormat": PAYLOAD_FORMAT},
        publish_time=sent,
    )


class SqsBackend:
    """`Backend` for a route fed from SQS: ack deletes, nack changes the visibility timeout,
    dead-letter publishes go to `dead_letters` (the router's Pub/Sub backend).

    Args:
        sqs: A boto3 SQS client.
        queue_url: The queue.
        dead_letters: Where `publish` goes.
        log: Logger (default `emulators.router`).
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        dead_letters: Backend,
        log: logging.Logger | None = None,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._dead_letters = dead_letters
        self._nacks = DelayedNacks(self._change_visibility, f"queue={queue_url}", log)

    def acknowledge(self, subscription: str, ack_id: str) -> None:
        """Delete the SQS message of receipt handle `ack_id`."""
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=ack_id)

    def _change_visibility(self, receipt_handle: str, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def nack(self, subscription: str, ack_id: str, delay_seconds: float) -> None:
        """Make the message visible again after `delay_seconds`."""
        self._nacks.nack(ack_id, delay_seconds)

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Publish to a Pub/Sub topic through `dead_letters`."""
        self._dead_letters.publish(topic, data, attributes)

    def cancel_timers(self) -> None:
        """Cancel pending short nacks (the visibility timeout brings those messages back)."""
        self._nacks.cancel()


class SqsSource:
    """Long-polls an SQS queue for as many messages as its route has free delivery slots.

    Args:
        sqs: A boto3 SQS client.
        queue_url: The queue.
        wait_seconds: Long-poll wait of one `ReceiveMessage` (0..20).
        error_pause_seconds: Wait after a failed receive.
        log: Logger (default `emulators.router`).
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        *,
        wait_seconds: int = LONG_POLL_SECONDS,
        error_pause_seconds: float = ERROR_PAUSE_SECONDS,
        log: logging.Logger | None = None,
    ) -> None:
        self._log = log or logger
        self._sqs = sqs
        self._queue_url = queue_url
        self._wait = wait_seconds
        self._pause = error_pause_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.test_events_deleted = 0
        self.description = f"S3 events on SQS queue {queue_url}"

    def start(self, queue: DeliveryQueue) -> None:
        """Start polling on a background thread that offers every object event to `queue`."""
        self._thread = threading.Thread(target=self._run, args=(queue,), name="sqs-s3-events")
        self._thread.daemon = True
        self._thread.start()

    def _run(self, queue: DeliveryQueue) -> None:
        while not self._stop.is_set():
            slots = queue.wait_for_free_slot(timeout_seconds=self._wait)
            if slots == 0:
                continue
            try:
                self.poll_once(queue, slots)
            except Exception as exc:
                if not self._stop.is_set():
                    self._log.warning("SQS receive failed queue=%s: %s", self._queue_url, exc)
                    self._stop.wait(self._pause)

    def poll_once(self, queue: DeliveryQueue, max_messages: int) -> int:
        """One `ReceiveMessage` (long poll); offers object events, deletes test events.

        Returns:
            Object events offered.
        """
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=max(1, min(max_messages, MAX_MESSAGES_PER_RECEIVE)),
            WaitTimeSeconds=self._wait,
            AttributeNames=["SentTimestamp"],
        )
        offered = 0
        for item in response.get("Messages", []):
            if is_test_event(item["Body"]):
                self._sqs.delete_message(
                    QueueUrl=self._queue_url, ReceiptHandle=item["ReceiptHandle"]
                )
                self.test_events_deleted += 1
                continue
            offered += queue.offer(s3_event_message(item))
        return offered

    def stop(self) -> None:
        """Stop polling. A receive still waiting is abandoned after a second: its thread ends when
        the receive returns (or fails once moto stops), offering nothing to the stopped queue."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_JOIN_SECONDS)
