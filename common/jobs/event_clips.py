"""Event clips: a clip around each event of a camera that asks for them (`clips` in its event
settings, off by default), cut by the clip job from the recordings that cover it.

After a recording is processed, every event with a segment in it gets a clip job for
`[start_at - clip_pre_ms, end_at + clip_post_ms)`, trimmed to what the camera's recordings
cover and to `MAX_CLIP_DURATION_MS`; a window across recordings is one job that joins the parts
(as `POST /v1/devices/{id}/cameras/{camera}/clips`). An event continued by the next recording
gets a new, longer clip, and `clip_job_id` names the newest. Jobs are identified by their
parameters, so running this again (a redelivered message) queues nothing new.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from common.core.errors import Conflict, ValidationError
from common.core.status import JobKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Event, Job, MediaObject
    from common.events.envelope import PubSubMessage
    from common.media.analyse import ProcessOutcome

log = logging.getLogger(__name__)


def _clip_for(
    session: Session, event: Event, media: MediaObject, pre_ms: int, post_ms: int
) -> Job | None:
    from common.core.errors import NotFound
    from common.core.settings import get_settings
    from common.db.repo import get_media
    from common.jobs.api import create_job
    from common.media.recordings import window_parts

    try:
        first = get_media(session, event.media_id)
    except NotFound:
        return None
    if media.duration_ms is None:
        return None
    begin = max(event.start_at - timedelta(milliseconds=pre_ms), first.captured_at)
    end = min(
        event.end_at + timedelta(milliseconds=post_ms),
        media.captured_at + timedelta(milliseconds=media.duration_ms),
    )
    duration_ms = min(
        int((end - begin).total_seconds() * 1000), get_settings().max_clip_duration_ms
    )
    if duration_ms <= 0:
        return None
    try:
        parts = window_parts(session, event.device_id, event.camera_id, begin, duration_ms)
    except ValidationError:
        log.info("event %s: no recording covers its clip window", event.id)
        return None
    owner = f"event:{event.id}"
    if len(parts) == 1:
        part = parts[0]
        params = {"start_ms": part.start_ms, "duration_ms": part.duration_ms}
        return create_job(session, part.media, JobKind.CLIP, params, created_by=owner).job
    spans = [
        {"media_id": p.media.id, "start_ms": p.start_ms, "duration_ms": p.duration_ms}
        for p in parts
    ]
    return create_job(
        session, parts[0].media, JobKind.CLIP, {"parts": spans}, created_by=owner, checked=True
    ).job


def queue_event_clips(session: Session, media_id: str) -> list[Job]:
    """Queue the clips of the events that have a segment in `media_id` (module docstring), in the
    caller's transaction; the caller publishes them after committing (`enqueue_if_queued`).

    Returns:
        The clip jobs (new or found).

    Raises:
        TransientError: database or Pub/Sub unavailable (retry).
    """
    from sqlalchemy import select

    from common.core.errors import NotFound
    from common.db.models import Event, EventSegment
    from common.db.repo import get_media
    from common.media.events.settings import settings_for

    try:
        media = get_media(session, media_id)
    except NotFound:
        return []
    if media.media_type != "video" or media.parent_id is not None:
        return []
    settings = settings_for(session, media.device_id, media.camera_id)
    if not settings.clips:
        return []
    events = session.execute(
        select(Event)
        .join(EventSegment, EventSegment.event_id == Event.id)
        .where(EventSegment.media_id == media_id)
        .with_for_update(of=Event)
    ).scalars()
    jobs: list[Job] = []
    for event in events:
        try:
            job = _clip_for(session, event, media, settings.clip_pre_ms, settings.clip_post_ms)
        except (ValidationError, Conflict) as exc:
            log.info("event %s: no clip (%s)", event.id, exc.message)
            continue
        if job is not None:
            event.clip_job_id = job.id
            jobs.append(job)
    return jobs


def handle_media_verified(message: PubSubMessage) -> ProcessOutcome:
    """process_media: analyse the media (`common.media.analyse.handle_media_verified`), then
    queue its event clips; a duplicate delivery queues any that a failed attempt left out."""
    from common.db.engine import session_scope
    from common.jobs.api import enqueue_if_queued
    from common.media.analyse import ProcessOutcome
    from common.media.analyse import handle_media_verified as analyse

    outcome = analyse(message)
    if outcome in (ProcessOutcome.PROCESSED, ProcessOutcome.DUPLICATE):
        with session_scope() as session:
            jobs = queue_event_clips(session, message.json()["media_id"])
        for job in jobs:
            enqueue_if_queued(job)
    return outcome
