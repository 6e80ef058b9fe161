"""finalize_upload (Pub/Sub push): verify an uploaded object named by a storage notification.

Answers 2xx (acknowledged) when done or when the message is poison; 503/500 (redelivered with
backoff, then dead-lettered) on transient failures. See common/events/envelope.py and
common/media/verify.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

from common.api import warm
from common.core.warmup import WarmUp
from common.events.envelope import handle_push
from common.observe.logging import configure

if TYPE_CHECKING:
    from flask import Request

configure()

WARM_UP = WarmUp(
    warm.modules("common.media.verify"),
    warm.database,
    warm.storage,
    warm.mirror,
    warm.publisher,
    name="warm-up of finalize_upload",
)
"""What the first push needs, prepared after the fork (`common.core.warmup`)."""


@functions_framework.http
def finalize_upload(request: Request) -> tuple[str, int]:
    """Push endpoint of the `finalize-upload` subscription."""
    WARM_UP.wait()
    from common.media.verify import handle_object_notification

    status, outcome = handle_push(request.get_data(), handle_object_notification)
    return outcome, status
