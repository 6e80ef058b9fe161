"""process_media (Pub/Sub push): analyse verified media (detections, thumbnails, posters).

Acknowledges (2xx) when done, or when the media is undecodable (it ends `failed`); raises (5xx,
redelivered with backoff, then dead-lettered) on transient failures. See common/processing_service.py.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from common.push import handle_push

logging.basicConfig(level=logging.INFO)


@functions_framework.cloud_event
def process_media(cloud_event: Any) -> None:
    """CloudEvent entry point (google.cloud.pubsub.topic.v1.messagePublished)."""
    from common.processing_service import handle_media_verified

    handle_push(cloud_event, handle_media_verified)
