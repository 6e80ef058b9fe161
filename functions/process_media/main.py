"""process_media (Pub/Sub push): analyse verified media, and run clip / snapshot jobs.

Two push subscriptions deliver here: `media-verified` (analyse a verified upload: detections,
thumbnails, posters; common/processing_service.py) and `media-jobs` (messages with attribute
`kind=job`: cut a clip or a snapshot; common/job_worker.py). Acknowledges (2xx) when done, or when
the input is undecodable (the media or job ends `failed`); raises (5xx, redelivered with backoff,
then dead-lettered) on transient failures. See common/push.py.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from common.events import PubSubMessage
from common.push import handle_push

logging.basicConfig(level=logging.INFO)


def _route(message: PubSubMessage) -> Any:
    from common.job_worker import handle_job_message, is_job_message

    if is_job_message(message):
        return handle_job_message(message)
    from common.processing_service import handle_media_verified

    return handle_media_verified(message)


@functions_framework.cloud_event
def process_media(cloud_event: Any) -> None:
    """CloudEvent entry point (google.cloud.pubsub.topic.v1.messagePublished)."""
    handle_push(cloud_event, _route)
