"""Typed views of the events the Pub/Sub functions receive.

A push subscription POSTs `{"message": {"data", "attributes", "messageId", "publishTime"},
"subscription", "deliveryAttempt"}`; functions-framework turns it into a CloudEvent of type
`google.cloud.pubsub.topic.v1.messagePublished` whose `data["message"]` is that message
(https://cloud.google.com/pubsub/docs/push). Cloud Storage notifications in `JSON_API_V1` format carry
the object resource as data and `bucketId`, `objectId`, `objectGeneration`, `eventType`, `eventTime`
as attributes (https://cloud.google.com/storage/docs/pubsub-notifications).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common.errors import BadRequest


@dataclass(frozen=True)
class PubSubMessage:
    """One Pub/Sub message as pushed.

    Attributes:
        message_id: the Pub/Sub message id (also the CloudEvent id).
        data: decoded payload bytes.
        attributes: message attributes.
        publish_time: when Pub/Sub accepted the message (tz-aware UTC), if given.
        delivery_attempt: 1-based attempt count when the subscription has a dead-letter policy.
    """

    message_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: datetime | None
    delivery_attempt: int | None

    def json(self) -> Any:
        """Decode `data` as JSON.

        Raises:
            BadRequest: if it is not valid UTF-8 JSON.
        """
        try:
            return json.loads(self.data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"message {self.message_id} data is not JSON") from exc


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def message_from_cloud_event(event_data: Any, event_id: str | None = None) -> PubSubMessage:
    """Build a PubSubMessage from a messagePublished CloudEvent's `data`.

    Raises:
        BadRequest: if the payload has no message or its data is not base64.
    """
    if not isinstance(event_data, dict) or not isinstance(event_data.get("message"), dict):
        raise BadRequest("CloudEvent data has no Pub/Sub message")
    message = event_data["message"]
    try:
        data = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("Pub/Sub message data is not base64") from exc
    attempt = event_data.get("deliveryAttempt")
    return PubSubMessage(
        message_id=str(message.get("messageId") or message.get("message_id") or event_id or ""),
        data=data,
        attributes={str(k): str(v) for k, v in (message.get("attributes") or {}).items()},
        publish_time=_parse_time(message.get("publishTime") or message.get("publish_time")),
        delivery_attempt=int(attempt) if isinstance(attempt, int | str) and str(attempt) else None,
    )


@dataclass(frozen=True)
class StorageNotification:
    """A Cloud Storage object-change notification (JSON_API_V1).

    Attributes:
        event_type: e.g. "OBJECT_FINALIZE", "OBJECT_DELETE".
        bucket: bucket name.
        object_name: object name.
        generation: object generation (int64).
        size_bytes: object size from the object resource, if present.
        md5_base64: object `md5Hash` (base64), if present.
        content_type: object Content-Type, if present.
        event_time: when the change happened (tz-aware UTC), if given.
        overwrote_generation: the generation this finalize replaced, if any.
    """

    event_type: str
    bucket: str
    object_name: str
    generation: int
    size_bytes: int | None
    md5_base64: str | None
    content_type: str | None
    event_time: datetime | None
    overwrote_generation: int | None

    @property
    def is_finalize(self) -> bool:
        """True for OBJECT_FINALIZE."""
        return self.event_type == "OBJECT_FINALIZE"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def storage_notification(message: PubSubMessage) -> StorageNotification:
    """Parse a Cloud Storage notification out of a Pub/Sub message.

    Raises:
        BadRequest: if the attributes lack bucketId / objectId / objectGeneration / eventType.
    """
    attrs = message.attributes
    missing = [
        k for k in ("bucketId", "objectId", "objectGeneration", "eventType") if not attrs.get(k)
    ]
    generation = _int_or_none(attrs.get("objectGeneration"))
    if missing or generation is None:
        raise BadRequest(f"not a Cloud Storage notification (missing {missing or 'generation'})")
    resource: dict[str, Any] = {}
    if attrs.get("payloadFormat", "JSON_API_V1") == "JSON_API_V1" and message.data:
        decoded = message.json()
        resource = decoded if isinstance(decoded, dict) else {}
    return StorageNotification(
        event_type=attrs["eventType"],
        bucket=attrs["bucketId"],
        object_name=attrs["objectId"],
        generation=generation,
        size_bytes=_int_or_none(resource.get("size")),
        md5_base64=resource.get("md5Hash"),
        content_type=resource.get("contentType"),
        event_time=_parse_time(attrs.get("eventTime")) or message.publish_time,
        overwrote_generation=_int_or_none(attrs.get("overwroteGeneration")),
    )
