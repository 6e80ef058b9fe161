from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from common.errors import BadRequest, PermanentMediaError, TransientError
from common.events import PubSubMessage, message_from_cloud_event, storage_notification
from common.push import handle_push

EVENTS = Path(__file__).parents[1] / "events"


def push_body() -> dict[str, Any]:
    return json.loads((EVENTS / "gcs_finalize_push.json").read_text())


def test_gcs_notification_is_typed() -> None:
    message = message_from_cloud_event(push_body())
    note = storage_notification(message)
    assert message.message_id == "9876543210"
    assert message.delivery_attempt == 2
    assert note.is_finalize
    assert (note.bucket, note.object_name) == (
        "media-uploads",
        "dev-1/front/2026-11-22/msg-0001.jpg",
    )
    assert note.generation == 1763780000123456
    assert (note.size_bytes, note.md5_base64, note.content_type) == (
        1234,
        "1B2M2Y8AsgTpgAmY7PhCfg==",
        "image/jpeg",
    )
    assert note.event_time is not None
    assert note.event_time.utcoffset() is not None


def test_message_without_storage_attributes_is_bad_request() -> None:
    body = push_body()
    del body["message"]["attributes"]["objectGeneration"]
    with pytest.raises(BadRequest):
        storage_notification(message_from_cloud_event(body))


def test_data_that_is_not_base64_is_bad_request() -> None:
    body = push_body()
    body["message"]["data"] = "!!!not base64!!!"
    with pytest.raises(BadRequest):
        message_from_cloud_event(body)


def cloud_event(data: Any) -> CloudEvent:
    attributes = {
        "id": "ce-1",
        "source": "//pubsub.googleapis.com/projects/p/topics/t",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
    }
    return CloudEvent(attributes, data)


def test_poison_messages_are_acknowledged_not_raised() -> None:
    def poison(_: PubSubMessage) -> str:
        raise PermanentMediaError("corrupt")

    assert handle_push(cloud_event(push_body()), poison) is None
    assert handle_push(cloud_event({"no": "message"}), poison) is None


def test_transient_errors_propagate_so_pubsub_redelivers() -> None:
    def flaky(_: PubSubMessage) -> str:
        raise TransientError("database down")

    with pytest.raises(TransientError):
        handle_push(cloud_event(push_body()), flaky)


def test_handler_result_passes_through() -> None:
    assert (
        handle_push(cloud_event(push_body()), lambda m: m.attributes["bucketId"]) == "media-uploads"
    )
