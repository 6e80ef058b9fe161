"""Object notifications from either store, as one typed `StorageNotification`.

- Cloud Storage Pub/Sub notifications in `JSON_API_V1` format carry `bucketId`, `objectId`,
  `objectGeneration`, `eventType`, `eventTime` as attributes and the object resource as data
  (https://cloud.google.com/storage/docs/pubsub-notifications).
- S3 event notifications (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)
  arrive as the JSON `{"Records": [...]}` in the message data with attribute
  `payloadFormat=S3_EVENT_JSON` (forwarded from SQS by the push router locally, by the
  documented poller on AWS). Keys are URL-encoded (`+` for spaces); the ETag of a single-part
  upload is the hex MD5 of the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from common.core.errors import BadRequest
from common.core.hashing import md5_of_etag
from common.events.envelope import PubSubMessage, parse_time

S3_PAYLOAD_FORMAT = "S3_EVENT_JSON"
FINALIZE = "finalize"
DELETE = "delete"

_GCS_EVENTS = {"OBJECT_FINALIZE": FINALIZE, "OBJECT_DELETE": DELETE}


@dataclass(frozen=True)
class StorageNotification:
    """An object change in a bucket.

    Attributes:
        event: "finalize" (an object version was created), "delete", or the store's own name
            for anything else.
        bucket: bucket name.
        object_name: object name (decoded).
        version: the version the event is about (GCS generation as text, S3 version id), or None
            when the store did not say (an unversioned S3 bucket).
        size_bytes: object size, if given.
        md5_base64: the store's MD5 of the bytes (base64), if given.
        content_type: object Content-Type, if given.
        event_time: when the change happened (tz-aware UTC), if given.
    """

    event: str
    bucket: str
    object_name: str
    version: str | None
    size_bytes: int | None
    md5_base64: str | None
    content_type: str | None
    event_time: datetime | None

    @property
    def is_finalize(self) -> bool:
        """True when an object version was created."""
        return self.event == FINALIZE


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _gcs(message: PubSubMessage) -> StorageNotification:
    attrs = message.attributes
    missing = [
        k for k in ("bucketId", "objectId", "objectGeneration", "eventType") if not attrs.get(k)
    ]
    if missing or not attrs.get("objectGeneration", "").isdigit():
        raise BadRequest(f"not a Cloud Storage notification (missing {missing or 'generation'})")
    resource: dict[str, Any] = {}
    if attrs.get("payloadFormat", "JSON_API_V1") == "JSON_API_V1" and message.data:
        decoded = message.json()
        resource = decoded if isinstance(decoded, dict) else {}
    md5 = resource.get("md5Hash")
    content_type = resource.get("contentType")
    return StorageNotification(
        event=_GCS_EVENTS.get(attrs["eventType"], attrs["eventType"]),
        bucket=attrs["bucketId"],
        object_name=attrs["objectId"],
        version=attrs["objectGeneration"],
        size_bytes=_int_or_none(resource.get("size")),
        md5_base64=md5 if isinstance(md5, str) else None,
        content_type=content_type if isinstance(content_type, str) else None,
        event_time=parse_time(attrs.get("eventTime")) or message.publish_time,
    )


def _s3_record(record: Any, message: PubSubMessage) -> StorageNotification:
    if not isinstance(record, dict):
        raise BadRequest("S3 event record is not an object")
    s3 = record.get("s3")
    name = record.get("eventName")
    if not isinstance(s3, dict) or not isinstance(name, str):
        raise BadRequest("S3 event record has no s3 / eventName")
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    key = obj.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        raise BadRequest("S3 event record names no bucket / key")
    event = (
        FINALIZE
        if name.startswith("ObjectCreated:")
        else DELETE
        if name.startswith("ObjectRemoved:")
        else name
    )
    version = obj.get("versionId")
    return StorageNotification(
        event=event,
        bucket=bucket,
        object_name=unquote_plus(key),
        version=version if isinstance(version, str) and version else None,
        size_bytes=_int_or_none(obj.get("size")),
        md5_base64=md5_of_etag(obj.get("eTag")),
        content_type=None,
        event_time=parse_time(record.get("eventTime")) or message.publish_time,
    )


def storage_notifications(message: PubSubMessage) -> list[StorageNotification]:
    """Parse the object notifications a Pub/Sub message carries (one for GCS; S3 may batch).

    An S3 `s3:TestEvent` (sent when notifications are configured) carries none.

    Raises:
        BadRequest: neither a Cloud Storage notification nor an S3 event (poison).
    """
    if message.attributes.get("payloadFormat") == S3_PAYLOAD_FORMAT:
        body = message.json()
        if not isinstance(body, dict):
            raise BadRequest("S3 event is not an object")
        if body.get("Event") == "s3:TestEvent":
            return []
        records = body.get("Records")
        if not isinstance(records, list):
            raise BadRequest("S3 event has no Records")
        return [_s3_record(record, message) for record in records]
    return [_gcs(message)]
