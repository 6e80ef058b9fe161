"""Events: log lines the log-based metrics count (terraform/monitoring.tf) and `mediactl admin
stats` summarises locally.

    upload.verified      size_bytes, media_id, device_id
    upload.rejected      reason_code, media_id
    dedupe.hit           media_id, device_id, size_bytes
    quota.refused        reason_code (quota_bytes_per_day | quota_media_per_day), scope
    ingest.fetch_failed  reason_code (url_not_allowed | fetch_failed | too_large)
    delivery.dead_lettered  subscription
    share.opened         share_id, media_id
    webhook.dead_lettered  delivery_id (a webhook delivery given up after its retries)
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("common.events.metrics")


def log_event(event: str, *, severity: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields (top-level JSON keys in Cloud Logging)."""
    log.log(severity, event, extra={"event": event, **fields})
