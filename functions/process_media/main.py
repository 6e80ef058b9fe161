"""process_media (Pub/Sub push): analyse verified media, and run clip / snapshot jobs.

Two push subscriptions deliver here: `process-media` (`media-verified`: detections, thumbnails,
posters, events; common/media/analyse.py, then event clips: common/jobs/event_clips.py) and
`media-jobs` (attribute `kind=job`: cut a clip or a snapshot; common/jobs/worker.py). Answers 2xx when done, or when the input is poison or
undecodable (the media or job ends `failed`); 503/500 (redelivered, then dead-lettered) on
transient failures. See common/events/envelope.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import functions_framework

from common.api import warm
from common.core.warmup import WarmUp
from common.events.envelope import PubSubMessage, handle_push
from common.observe.logging import configure

if TYPE_CHECKING:
    from flask import Request

configure()

WARM_UP = WarmUp(
    warm.modules(
        "common.media.analyse",
        "common.jobs.event_clips",
        "common.jobs.worker",
        "cv2",
        "av",
        "PIL.Image",
    ),
    warm.database,
    warm.storage,
    warm.mirror,
    warm.publisher,
    name="warm-up of process_media",
)
"""What the first push needs, prepared after the fork (`common.core.warmup`); the detectors'
models load on the first analysis (`common.processing`)."""


def _route(message: PubSubMessage) -> StrEnum:
    from common.jobs.worker import handle_job_message, is_job_message

    if is_job_message(message):
        return handle_job_message(message)
    from common.jobs.event_clips import handle_media_verified

    return handle_media_verified(message)


@functions_framework.http
def process_media(request: Request) -> tuple[str, int]:
    """Push endpoint of the `process-media` and `media-jobs` subscriptions."""
    WARM_UP.wait()
    status, outcome = handle_push(request.get_data(), _route)
    return outcome, status
