"""The local stack with the S3 backend (moto's server): versioned buckets with CORS, and each
object PUT to the uploads bucket pushed once to finalize_upload's endpoint as a Pub/Sub push
envelope, retried and dead-lettered like the finalize-upload subscription. Here the functions are
not started and a test endpoint stands in for finalize_upload, to see the router's forwarding on
its own; the session stack with the S3 backend (`conftest.py`) runs the whole pipeline on moto."""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from emulators import s3
from emulators.stack import LocalStack
from tests.integration.conftest import ROOT, start_stack
from tests.integration.support import push_endpoint, wait_for

pytestmark = pytest.mark.integration

EXTERNAL_SERVICE_KEYS = ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def object_key(envelope: dict[str, Any]) -> str:
    event = json.loads(base64.b64decode(envelope["message"]["data"]))
    return unquote_plus(event["Records"][0]["s3"]["object"]["key"])


@dataclass
class S3PushReceiver:
    """Stand-in for finalize_upload: keys `retry-*` fail twice then succeed, `dead-*` always
    fail, anything else succeeds. Records every envelope with the status it answered."""

    deliveries: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, envelope: dict[str, Any]) -> int:
        try:
            key = object_key(envelope)
        except (KeyError, ValueError, IndexError):
            key = ""
        with self.lock:
            seen = sum(
                1
                for e, _ in self.deliveries
                if e["message"]["messageId"] == envelope["message"]["messageId"]
            )
            if key.startswith("dead-") or (key.startswith("retry-") and seen < 2):
                status = 500
            else:
                status = 204
            self.deliveries.append((envelope, status))
        return status

    def for_key(self, key: str) -> list[tuple[dict[str, Any], int]]:
        with self.lock:
            return [(e, s) for e, s in self.deliveries if _key_or_none(e) == key]


def _key_or_none(envelope: dict[str, Any]) -> str | None:
    try:
        return object_key(envelope)
    except (KeyError, ValueError, IndexError):
        return None


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[S3PushReceiver, str]]:
    state = S3PushReceiver()
    with push_endpoint(state.answer) as url:
        yield state, url


@pytest.fixture(scope="module")
def s3_stack(receiver: tuple[S3PushReceiver, str]) -> Iterator[LocalStack]:
    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVICE_KEYS}
    stack = start_stack(
        ROOT / ".stack" / "pytest-s3",
        storage_backend="s3",
        with_functions=False,
        apply_migrations=False,
        extra_env={"ROUTER_BACKOFF_SCALE": "0.01"},
        push_endpoint_overrides={"finalize-upload": receiver[1]},
        base_env=base,
        run_schedules=False,
    )
    try:
        yield stack
    finally:
        stack.stop()


def clients(stack: LocalStack) -> tuple[Any, Any, str]:
    env = stack.env
    s3_client = s3.client("s3", env["S3_ENDPOINT_URL"], env["AWS_DEFAULT_REGION"])
    sqs = s3.client("sqs", env["S3_ENDPOINT_URL"], env["AWS_DEFAULT_REGION"])
    queue_url = sqs.get_queue_url(QueueName=s3.EVENTS_QUEUE)["QueueUrl"]
    return s3_client, sqs, queue_url


def queue_is_empty(sqs: Any, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(value == "0" for value in attributes.values())


def presigned_put(s3_client: Any, bucket: str, key: str, data: bytes) -> requests.Response:
    url = s3_client.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": "image/jpeg"},
        ExpiresIn=300,
    )
    return requests.put(url, data=data, headers={"Content-Type": "image/jpeg"}, timeout=10)


def test_the_stack_exports_the_s3_environment_and_no_gcs_emulator(s3_stack: LocalStack) -> None:
    env = s3_stack.env
    assert env["STORAGE_BACKEND"] == "s3"
    assert env["S3_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"  # moto dummies
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "STORAGE_EMULATOR_HOST" not in env
    assert json.loads((s3_stack.workdir / "env.json").read_text()) == env
    assert any(s.name.startswith("storage (moto") for s in s3_stack.services)


def test_both_buckets_are_versioned_and_answer_cors_preflights(s3_stack: LocalStack) -> None:
    s3_client, _, _ = clients(s3_stack)
    env = s3_stack.env
    for bucket in (env["UPLOADS_BUCKET"], env["DERIVATIVES_BUCKET"]):
        assert s3_client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    preflight = requests.options(
        f"{env['S3_ENDPOINT_URL']}/{env['UPLOADS_BUCKET']}/any.jpg",
        headers={
            "Origin": "http://127.0.0.1:5173",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,content-md5",
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    refused = requests.options(
        f"{env['S3_ENDPOINT_URL']}/{env['UPLOADS_BUCKET']}/any.jpg",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "PUT"},
        timeout=5,
    )
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_a_put_is_pushed_exactly_once_as_a_push_envelope_and_its_sqs_message_deleted(
    s3_stack: LocalStack, receiver: tuple[S3PushReceiver, str]
) -> None:
    state, _ = receiver
    s3_client, sqs, queue_url = clients(s3_stack)
    key = f"dev-1/cam 1/{uuid.uuid4().hex}+a.jpg"
    # WHEN a device PUTs an object to a presigned URL of the uploads bucket
    put = presigned_put(s3_client, s3_stack.env["UPLOADS_BUCKET"], key, b"jpeg bytes")
    assert put.status_code == 200
    assert put.headers["x-amz-version-id"]  # versioned
    # THEN its ObjectCreated event is pushed and, acked, leaves the queue: it cannot come back
    wait_for(lambda: bool(state.for_key(key)), 20, "the push of the S3 event")
    wait_for(lambda: queue_is_empty(sqs, queue_url), 20, "the SQS message deleted")
    [(envelope, status)] = state.for_key(key)
    assert status == 204
    assert envelope["subscription"] == "projects/local-project/subscriptions/finalize-upload"
    assert envelope["deliveryAttempt"] == 1
    message = envelope["message"]
    assert message["attributes"] == {"payloadFormat": "S3_EVENT_JSON"}
    assert message["messageId"] == message["message_id"]
    assert message["publishTime"] == message["publish_time"]
    assert message["publishTime"].endswith("Z")
    [record] = json.loads(base64.b64decode(message["data"]))["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == s3_stack.env["UPLOADS_BUCKET"]
    assert record["s3"]["object"]["size"] == len(b"jpeg bytes")
    # moto's s3:TestEvent (sent when the notification was configured) was never pushed
    with state.lock:
        bodies = [base64.b64decode(e["message"]["data"]) for e, _ in state.deliveries]
    assert not any(b"s3:TestEvent" in body for body in bodies)


def test_a_put_to_the_derivatives_bucket_is_not_pushed(
    s3_stack: LocalStack, receiver: tuple[S3PushReceiver, str]
) -> None:
    state, _ = receiver
    s3_client, sqs, queue_url = clients(s3_stack)
    key = f"derived-{uuid.uuid4().hex}.jpg"
    s3_client.put_object(Bucket=s3_stack.env["DERIVATIVES_BUCKET"], Key=key, Body=b"x")
    marker = f"marker-{uuid.uuid4().hex}.jpg"
    s3_client.put_object(Bucket=s3_stack.env["UPLOADS_BUCKET"], Key=marker, Body=b"x")
    # events are queued in order: once the later upload is pushed and the queue is empty,
    # an event of the derivatives bucket would have been pushed already
    wait_for(lambda: bool(state.for_key(marker)), 20, "the marker's push")
    wait_for(lambda: queue_is_empty(sqs, queue_url), 20, "an empty queue")
    assert state.for_key(key) == []


def test_a_failing_endpoint_gets_redeliveries_with_the_subscriptions_backoff(
    s3_stack: LocalStack, receiver: tuple[S3PushReceiver, str]
) -> None:
    state, _ = receiver
    s3_client, sqs, queue_url = clients(s3_stack)
    key = f"retry-{uuid.uuid4().hex}.jpg"
    s3_client.put_object(Bucket=s3_stack.env["UPLOADS_BUCKET"], Key=key, Body=b"retry me")
    wait_for(lambda: any(s == 204 for _, s in state.for_key(key)), 30, "a successful retry")
    wait_for(lambda: queue_is_empty(sqs, queue_url), 20, "the SQS message deleted")
    deliveries = state.for_key(key)
    assert [s for _, s in deliveries] == [500, 500, 204]
    assert [e["deliveryAttempt"] for e, _ in deliveries] == [1, 2, 3]
    assert len({e["message"]["messageId"] for e, _ in deliveries}) == 1


def test_an_event_that_always_fails_is_dead_lettered_to_pubsub(
    s3_stack: LocalStack, receiver: tuple[S3PushReceiver, str]
) -> None:
    from emulators.pubsub import clients as pubsub_clients

    state, _ = receiver
    s3_client, sqs, queue_url = clients(s3_stack)
    key = f"dead-{uuid.uuid4().hex}.jpg"
    s3_client.put_object(Bucket=s3_stack.env["UPLOADS_BUCKET"], Key=key, Body=b"poison")
    env = s3_stack.env
    _, subscriber, close = pubsub_clients(env["PUBSUB_EMULATOR_HOST"])
    inspect = f"projects/{env['GOOGLE_CLOUD_PROJECT']}/subscriptions/dead-letter-inspect"
    found: list[Any] = []

    def dead_lettered() -> bool:
        response = subscriber.pull(request={"subscription": inspect, "max_messages": 10}, timeout=5)
        for item in response.received_messages:
            subscriber.acknowledge(request={"subscription": inspect, "ack_ids": [item.ack_id]})
            event = json.loads(item.message.data)
            if unquote_plus(event["Records"][0]["s3"]["object"]["key"]) == key:
                found.append(item.message)
        return bool(found)

    try:
        wait_for(dead_lettered, 40, "the S3 event on dead-letter-inspect")
    finally:
        close()
    wait_for(lambda: queue_is_empty(sqs, queue_url), 20, "the SQS message deleted")
    deliveries = state.for_key(key)
    assert [e["deliveryAttempt"] for e, _ in deliveries] == [1, 2, 3, 4, 5]
    [message] = found
    assert message.attributes["payloadFormat"] == "S3_EVENT_JSON"
    assert message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert message.attributes["CloudPubSubDeadLetterSourceSubscription"] == "finalize-upload"
