from __future__ import annotations

import base64
import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from common.core.errors import BadRequest, PermanentMediaError, TransientError
from common.events.envelope import PubSubMessage, handle_push, parse_push
from common.events.notifications import storage_notifications

EVENTS = Path(__file__).parents[2] / "events"


class Done(StrEnum):
    OK = "ok"


def push_body() -> dict[str, Any]:
    return json.loads((EVENTS / "gcs_finalize_push.json").read_text())


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def s3_message(record_file: str = "s3_put_record.json") -> PubSubMessage:
    data = (EVENTS / record_file).read_bytes()
    return PubSubMessage("sqs-1", data, {"payloadFormat": "S3_EVENT_JSON"})


def test_the_push_envelope_is_typed_with_its_delivery_attempt() -> None:
    message = parse_push(raw(push_body()))
    assert message.message_id == "9876543210"
    assert message.delivery_attempt == 2
    assert message.subscription_id == "finalize-upload"
    assert message.publish_time is not None


def test_gcs_notification_is_typed() -> None:
    (note,) = storage_notifications(parse_push(raw(push_body())))
    assert note.is_finalize
    assert (note.bucket, note.object_name) == (
        "media-uploads",
        "dev-1/front/2026-11-22/msg-0001.jpg",
    )
    assert note.version == "1763780000123456"
    assert (note.size_bytes, note.md5_base64, note.content_type) == (
        1234,
        "1B2M2Y8AsgTpgAmY7PhCfg==",
        "image/jpeg",
    )
    assert note.event_time is not None
    assert note.event_time.utcoffset() is not None


def test_s3_event_is_the_same_typed_notification_with_a_decoded_key() -> None:
    (note,) = storage_notifications(s3_message())
    assert note.is_finalize
    assert note.bucket == "media-uploads"
    assert note.object_name == "dev-1/front/2026-11-22/msg+0001 copy.jpg"
    assert note.version == "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
    assert note.size_bytes == 1234
    assert note.md5_base64 == "1B2M2Y8AsgTpgAmY7PhCfg=="  # the single-part ETag is the MD5


def test_s3_test_event_carries_no_notification() -> None:
    data = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}).encode()
    assert storage_notifications(PubSubMessage("1", data, {"payloadFormat": "S3_EVENT_JSON"})) == []


def test_message_without_storage_attributes_is_bad_request() -> None:
    body = push_body()
    del body["message"]["attributes"]["objectGeneration"]
    with pytest.raises(BadRequest):
        storage_notifications(parse_push(raw(body)))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[" * 500 + b"]" * 500,
        raw({"no": "message"}),
        raw({"message": {"data": "!!!not base64!!!", "messageId": "1"}}),
    ],
)
def test_undecodable_push_requests_are_acknowledged(body: bytes) -> None:
    assert handle_push(body, lambda m: Done.OK) == (200, "undecodable")


def test_poison_messages_are_acknowledged_once_with_the_real_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def poison(_: PubSubMessage) -> Done:
        raise PermanentMediaError("corrupt")

    with caplog.at_level(logging.ERROR):
        assert handle_push(raw(push_body()), poison) == (200, "poison")
    assert "attempt 2" in caplog.text


def test_deeply_nested_message_data_is_poison() -> None:
    body = push_body()
    body["message"]["data"] = base64.b64encode(b"[" * 200 + b"]" * 200).decode()

    def parse(message: PubSubMessage) -> Done:
        message.json()
        return Done.OK

    assert handle_push(raw(body), parse) == (200, "poison")


@pytest.mark.parametrize(
    "data",
    [
        b'{"media_id": ' + b"9" * 4301 + b"}",  # int() refuses more than 4,300 digits
        b'{"job_id": "job_1", "x": [NaN]}',
        b'{"media_id": "med_\\u0000"}',
    ],
)
def test_message_data_python_or_postgres_cannot_take_is_poison(data: bytes) -> None:
    body = push_body()
    body["message"]["data"] = base64.b64encode(data).decode()

    def parse(message: PubSubMessage) -> Done:
        message.json()
        return Done.OK

    assert handle_push(raw(body), parse) == (200, "poison")


def test_transient_errors_answer_503_so_pubsub_redelivers() -> None:
    def flaky(_: PubSubMessage) -> Done:
        raise TransientError("database down")

    assert handle_push(raw(push_body()), flaky) == (503, "retry")


def test_unexpected_errors_answer_500() -> None:
    def broken(_: PubSubMessage) -> Done:
        raise RuntimeError("bug")

    assert handle_push(raw(push_body()), broken) == (500, "error")


def test_handler_outcome_is_acknowledged() -> None:
    assert handle_push(raw(push_body()), lambda m: Done.OK) == (200, "ok")
