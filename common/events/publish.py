"""Pub/Sub publishing (the client honours `PUBSUB_EMULATOR_HOST` itself).

Batching waits at most `PUBLISH_MAX_LATENCY_SECONDS` for more messages: the pipeline publishes one
message per event, so the library's default 10 ms wait would only add latency.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from common.core.errors import TransientError
from common.core.settings import get_settings

if TYPE_CHECKING:
    from google.cloud.pubsub_v1 import PublisherClient

PUBLISH_TIMEOUT_SECONDS = 30.0
PUBLISH_MAX_LATENCY_SECONDS = 0.001


@cache
def get_publisher() -> PublisherClient:
    """Return the process-wide publisher client (built on first use)."""
    from google.cloud import pubsub_v1

    batch = pubsub_v1.types.BatchSettings(max_latency=PUBLISH_MAX_LATENCY_SECONDS)
    return pubsub_v1.PublisherClient(batch_settings=batch)


def publish_json(topic_id: str, payload: dict[str, Any], **attributes: str) -> str:
    """Publish `payload` as UTF-8 JSON to `topic_id` in the configured project.

    Returns:
        The Pub/Sub message id.

    Raises:
        TransientError: if the publish fails or times out (retry the whole handler).
    """
    from common.core import context
    from common.core.calls import record

    record("pubsub", "publish", topic_id)
    parent = context.traceparent()
    if parent and "traceparent" not in attributes:
        attributes = {**attributes, "traceparent": parent}  # the next hop continues the trace
    publisher = get_publisher()
    topic_path = publisher.topic_path(get_settings().gcp_project, topic_id)
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        return str(
            publisher.publish(topic_path, data, **attributes).result(PUBLISH_TIMEOUT_SECONDS)
        )
    except Exception as exc:
        raise TransientError(f"publish to {topic_id} failed: {exc.__class__.__name__}") from exc
