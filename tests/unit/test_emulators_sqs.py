"""S3 events from SQS become push messages like any subscription's; acks delete, nacks change the
visibility timeout, the S3 test event is never pushed. No network: a fake SQS client."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulators.delivery import DeliveryQueue
from emulators.router import Outcome, PushDispatcher
from emulators.sqs_source import SqsBackend, SqsSource, is_test_event, s3_event_message
from emulators.topology import SubscriptionSpec
from tests.unit.test_router import FakeBackend, ScriptedTransport

QUEUE_URL = "http://127.0.0.1:5000/123456789012/s3-object-events"
EVENT = {
    "Records": [
        {
            "eventName": "ObjectCreated:Put",
            "s3": {
                "bucket": {"name": "media-uploads"},
                "object": {"key": "dev-1/cam+1/a%2Bb.jpg", "size": 5},
            },
        }
    ]
}
TEST_EVENT = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "media-uploads"}
SPEC = SubscriptionSpec(
    name="finalize-upload",
    topic="object-events",
    ack_deadline_seconds=120,
    push_function="finalize_upload",
    minimum_backoff_seconds=10,
    maximum_backoff_seconds=600,
    max_delivery_attempts=5,
    dead_letter_topic="dead-letter",
)


def sqs_message(body: Any, message_id: str = "6f1c-0001", receipt: str = "rh-1") -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": receipt,
        "Body": json.dumps(body),
        "Attributes": {"SentTimestamp": "1796161150533"},
    }


@dataclass
class FakeSqs:
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    receives: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    visibility: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receives.append(kwargs)
        return {"Messages": self.batches.pop(0)} if self.batches else {}

    def delete_message(self, **kwargs: Any) -> None:  # boto3 names: QueueUrl, ReceiptHandle
        assert kwargs["QueueUrl"] == QUEUE_URL
        with self.lock:
            self.deleted.append(kwargs["ReceiptHandle"])

    def change_message_visibility(self, **kwargs: Any) -> None:
        assert kwargs["QueueUrl"] == QUEUE_URL
        self.visibility.append((kwargs["ReceiptHandle"], kwargs["VisibilityTimeout"]))


def test_an_s3_event_is_pushed_as_a_pubsub_message_with_its_sqs_id_and_raw_body() -> None:
    item = sqs_message(EVENT)
    message = s3_event_message(item)
    assert message.message_id == "6f1c-0001"
    assert message.ack_id == "rh-1"
    assert message.attributes == {"payloadFormat": "S3_EVENT_JSON"}
    assert message.data == item["Body"].encode()
    assert message.publish_time == datetime(2026, 12, 1, 21, 39, 10, 533000, tzinfo=UTC)


def test_the_test_event_is_recognised_and_object_events_are_not() -> None:
    assert is_test_event(json.dumps(TEST_EVENT))
    assert not is_test_event(json.dumps(EVENT))
    assert not is_test_event("not json")
    assert not is_test_event("[1, 2]")


def test_a_2xx_deletes_the_sqs_message_and_a_failure_makes_it_visible_after_the_backoff() -> None:
    sqs, dead_letters = FakeSqs(), FakeBackend()
    backend = SqsBackend(sqs, QUEUE_URL, dead_letters)
    transport = ScriptedTransport([500, 204])
    dispatcher = PushDispatcher(
        SPEC, project="p", endpoint="http://127.0.0.1:1/", backend=backend, transport=transport
    )
    first = dispatcher.deliver(s3_event_message(sqs_message(EVENT, receipt="rh-1")))
    second = dispatcher.deliver(s3_event_message(sqs_message(EVENT, receipt="rh-2")))
    assert (first.outcome, second.outcome) == (Outcome.NACKED, Outcome.ACKED)
    assert sqs.visibility == [("rh-1", 10)]  # the subscription's minimum backoff
    assert sqs.deleted == ["rh-2"]
    # the envelope is the one every push subscription sends
    body = transport.posts[1][1]
    assert body["subscription"] == "projects/p/subscriptions/finalize-upload"
    assert body["deliveryAttempt"] == 2
    assert body["message"]["messageId"] == body["message"]["message_id"] == "6f1c-0001"
    assert json.loads(base64.b64decode(body["message"]["data"])) == EVENT
    assert body["message"]["attributes"] == {"payloadFormat": "S3_EVENT_JSON"}


def test_after_the_last_attempt_the_event_goes_to_the_pubsub_dead_letter_topic() -> None:
    sqs, dead_letters = FakeSqs(), FakeBackend()
    backend = SqsBackend(sqs, QUEUE_URL, dead_letters)
    dispatcher = PushDispatcher(
        SPEC,
        project="p",
        endpoint="http://127.0.0.1:1/",
        backend=backend,
        transport=ScriptedTransport([500] * 5),
    )
    results = [
        dispatcher.deliver(s3_event_message(sqs_message(EVENT, receipt=f"rh-{n}")))
        for n in range(1, 6)
    ]
    assert results[-1].outcome is Outcome.DEAD_LETTERED
    [(topic, data, attributes)] = dead_letters.published
    assert topic == "projects/p/topics/dead-letter"
    assert json.loads(data) == EVENT
    assert attributes["payloadFormat"] == "S3_EVENT_JSON"
    assert attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert sqs.deleted == ["rh-5"]


@dataclass
class RecordingQueue:
    offered: list[Any] = field(default_factory=list)

    def offer(self, message: Any) -> bool:
        self.offered.append(message)
        return True


def test_a_poll_asks_for_the_free_slots_deletes_the_test_event_and_offers_the_rest() -> None:
    sqs = FakeSqs(batches=[[sqs_message(TEST_EVENT, "t", "rh-t"), sqs_message(EVENT)]])
    source = SqsSource(sqs, QUEUE_URL, wait_seconds=1)
    queue = RecordingQueue()
    assert source.poll_once(queue, 3) == 1  # type: ignore[arg-type]
    assert sqs.receives[0]["MaxNumberOfMessages"] == 3
    assert sqs.receives[0]["WaitTimeSeconds"] == 1
    assert sqs.deleted == ["rh-t"]
    assert source.test_events_deleted == 1
    assert [m.message_id for m in queue.offered] == ["6f1c-0001"]
    source.poll_once(queue, 50)  # type: ignore[arg-type]
    assert sqs.receives[1]["MaxNumberOfMessages"] == 10  # SQS allows at most 10


def test_the_source_feeds_a_delivery_queue_until_stopped() -> None:
    sqs = FakeSqs(batches=[[sqs_message(EVENT)]])
    pushed = threading.Event()

    class Transport:
        def post(self, url: str, body: Mapping[str, Any], timeout_seconds: float) -> int:
            pushed.set()
            return 200

    dispatcher = PushDispatcher(
        SPEC,
        project="p",
        endpoint="http://127.0.0.1:1/",
        backend=SqsBackend(sqs, QUEUE_URL, FakeBackend()),
        transport=Transport(),
    )
    queue = DeliveryQueue(dispatcher, max_in_flight=2)
    source = SqsSource(sqs, QUEUE_URL, wait_seconds=0)
    queue.start()
    source.start(queue)
    try:
        assert pushed.wait(5)
    finally:
        source.stop()
        queue.stop()
    with sqs.lock:
        assert sqs.deleted == ["rh-1"]
