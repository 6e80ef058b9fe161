"""finalize_upload (Pub/Sub push): verify an uploaded object named by a GCS finalize notification.

Acknowledges (2xx) when done or when the message is poison; raises (5xx, redelivered with backoff,
then dead-lettered) on transient failures. See common/push.py and common/verification.py.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from common.push import handle_push

logging.basicConfig(level=logging.INFO)


@functions_framework.cloud_event
def finalize_upload(cloud_event: Any) -> None:
    """CloudEvent entry point (google.cloud.pubsub.topic.v1.messagePublished)."""
    from common.verification import handle_object_notification

    handle_push(cloud_event, handle_object_notification)
