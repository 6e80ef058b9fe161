"""Dead-lettered messages end their media or job `failed`, so nothing waits forever.

A message lands on the dead-letter topic after `max_delivery_attempts` failed deliveries (real
Pub/Sub adds `CloudPubSubDeadLetterSourceSubscription` and the delivery count as attributes). What
it was about is read from the message itself: a storage notification (its media, by bucket and
object name), a `media-verified` message (`media_id`), a job message (`kind=job`, `job_id`). The
media or job, when not already terminal, ends `failed` with reason `dead_lettered`. The message
stays on the `dead-letter-inspect` subscription for people (and `mediactl admin redrive`).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from common.core import reasons
from common.core.errors import BadRequest
from common.core.ids import JOB_PREFIX, MEDIA_PREFIX, is_valid_id
from common.core.status import JOB_TERMINAL_STATUSES, TERMINAL_STATUSES, JobStatus, MediaStatus
from common.media import lifecycle

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.events.envelope import PubSubMessage

log = logging.getLogger(__name__)

SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"


class DeadLetterOutcome(StrEnum):
    """What a dead-lettered message led to."""

    MEDIA_FAILED = "media_failed"
    JOB_FAILED = "job_failed"
    ALREADY_TERMINAL = "already_terminal"
    UNKNOWN = "unknown"


def _fail_media(session: Session, media_id: str, event_id: str) -> DeadLetterOutcome:
    from common.core.errors import NotFound
    from common.db.repo import get_media

    try:
        media = get_media(session, media_id)
    except NotFound:
        return DeadLetterOutcome.UNKNOWN
    if MediaStatus(media.status) in TERMINAL_STATUSES:
        return DeadLetterOutcome.ALREADY_TERMINAL
    lifecycle.transition(
        session,
        media_id,
        MediaStatus.FAILED,
        reason=reasons.reason(reasons.DEAD_LETTERED),
        event_id=event_id,
    )
    log.warning("media %s failed: its message was dead-lettered", media_id)
    return DeadLetterOutcome.MEDIA_FAILED


def _fail_job(session: Session, job_id: str, event_id: str) -> DeadLetterOutcome:
    from common.core.errors import NotFound
    from common.db.repo import get_job
    from common.media.job_lifecycle import transition_job

    try:
        job = get_job(session, job_id)
    except NotFound:
        return DeadLetterOutcome.UNKNOWN
    if JobStatus(job.status) in JOB_TERMINAL_STATUSES:
        return DeadLetterOutcome.ALREADY_TERMINAL
    if job.result_media_id:
        _fail_media(session, job.result_media_id, event_id)
    transition_job(session, job_id, JobStatus.FAILED, reason=reasons.reason(reasons.DEAD_LETTERED))
    log.warning("job %s failed: its message was dead-lettered", job_id)
    return DeadLetterOutcome.JOB_FAILED


def _media_of_notification(session: Session, message: PubSubMessage) -> list[str]:
    from sqlalchemy import select

    from common.db.models import MediaObject
    from common.events.notifications import storage_notifications

    found = []
    for note in storage_notifications(message):
        media_id = session.execute(
            select(MediaObject.id).where(
                MediaObject.bucket == note.bucket, MediaObject.object_name == note.object_name
            )
        ).scalar_one_or_none()
        if media_id:
            found.append(media_id)
    return found


def handle_dead_letter(session: Session, message: PubSubMessage) -> DeadLetterOutcome:
    """End what a dead-lettered message was about (see the module docstring), in the caller's
    transaction. Idempotent.

    Raises:
        TransientError: database or Firestore unavailable (retry).
    """
    attrs = message.attributes
    log.warning(
        "dead letter %s from %s after %s attempts",
        message.message_id,
        attrs.get(SOURCE_SUBSCRIPTION),
        attrs.get(DELIVERY_COUNT),
    )
    from common.observe.events import log_event

    log_event(
        "delivery.dead_lettered",
        severity=logging.WARNING,
        subscription=attrs.get(SOURCE_SUBSCRIPTION, ""),
        delivery_attempt=attrs.get(DELIVERY_COUNT),
    )
    if attrs.get("kind") == "job":
        payload = message.json()
        job_id = payload.get("job_id") if isinstance(payload, dict) else None
        if isinstance(job_id, str) and is_valid_id(job_id, JOB_PREFIX):
            return _fail_job(session, job_id, message.message_id)
        return DeadLetterOutcome.UNKNOWN
    if "bucketId" in attrs or attrs.get("payloadFormat") == "S3_EVENT_JSON":
        try:
            media_ids = _media_of_notification(session, message)
        except BadRequest:
            return DeadLetterOutcome.UNKNOWN
        outcomes = [_fail_media(session, m, message.message_id) for m in media_ids]
        return outcomes[0] if outcomes else DeadLetterOutcome.UNKNOWN
    try:
        payload = message.json()
    except BadRequest:
        return DeadLetterOutcome.UNKNOWN
    media_id = payload.get("media_id") if isinstance(payload, dict) else None
    if isinstance(media_id, str) and is_valid_id(media_id, MEDIA_PREFIX):
        return _fail_media(session, media_id, message.message_id)
    return DeadLetterOutcome.UNKNOWN
