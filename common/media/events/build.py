"""Making events from the tracks of one analysis, in the analysis transaction.

`record_events()` runs inside `common.media.analysis_store`'s transaction, after the media's
tracks are written: every reported track of a label the camera cares about (`settings`) becomes
a segment, either of the event the previous recording's track started (`continuity`) or of a new
event. It is idempotent: a track that already has a segment (an analysis done again after a
crash) keeps it, and a replayed notification never gets this far (the media is processed).
Only originals make events (uploads, inline snapshots, ingests; not the clips and snapshots jobs
cut from them). `refresh()` recomputes an event from its segments (the one writer of an event's
times, score and best segment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.core.ids import new_id
from common.media.events.continuity import Beginning, Box, Ending, continuations
from common.media.events.settings import settings_for

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

    from common.db.models import Event, MediaObject

EVENT_PREFIX = "evt"


@dataclass(frozen=True)
class TrackFacts:
    """What event building needs of one stored track.

    Attributes:
        track_id: its id in the media.
        label: its label.
        first_ms: first time (None for a still).
        last_ms: last time (None for a still).
        best_score: best box score.
        first_box: its first box (x, y, w, h).
    """

    track_id: int
    label: str
    first_ms: int | None
    last_ms: int | None
    best_score: float
    first_box: Box


def _at(media: MediaObject, offset_ms: int | None) -> datetime:
    return media.captured_at + timedelta(milliseconds=offset_ms or 0)


def _end_of(media: MediaObject) -> datetime:
    return _at(media, media.duration_ms)


def _previous(session: Session, media: MediaObject, duration_ms: int | None) -> MediaObject | None:
    """Rule 1 of `continuity`: the camera's previous recording, when it ends near `media`'s
    start."""
    from sqlalchemy import select

    from common.core.settings import get_settings
    from common.core.status import MediaStatus
    from common.db.models import MediaObject

    m = MediaObject
    previous = session.execute(
        select(m)
        .where(
            m.device_id == media.device_id,
            m.camera_id == media.camera_id,
            m.captured_at < media.captured_at,
            m.parent_id.is_(None),
        )
        .order_by(m.captured_at.desc(), m.id.desc())
        .limit(1)
    ).scalar()
    if previous is None or previous.status != MediaStatus.PROCESSED.value:
        return None
    gap_ms = abs((media.captured_at - _end_of(previous)).total_seconds() * 1000)
    return previous if gap_ms <= get_settings().event_continuation_gap_ms else None


def _endings(session: Session, previous: MediaObject) -> list[Ending]:
    """The previous recording's segments with their track's last box."""
    from sqlalchemy import select

    from common.db.models import Detection, Event, EventSegment, Track

    rows = session.execute(
        select(EventSegment.event_id, Event.label, Track.last_ms, Track.track_id)
        .join(Event, Event.id == EventSegment.event_id)
        .join(
            Track,
            (Track.media_id == EventSegment.media_id) & (Track.track_id == EventSegment.track_id),
        )
        .where(EventSegment.media_id == previous.id)
    ).all()
    endings = []
    for event_id, label, last_ms, track_id in rows:
        box = session.execute(
            select(Detection.x, Detection.y, Detection.w, Detection.h)
            .where(Detection.media_id == previous.id, Detection.track_id == track_id)
            .order_by(Detection.time_ms.desc().nulls_last(), Detection.score.desc())
            .limit(1)
        ).first()
        if box is not None:
            endings.append(Ending(event_id, label, last_ms, (box.x, box.y, box.w, box.h)))
    return endings


def refresh(session: Session, event_id: str) -> Event | None:
    """Recompute an event's start, end, best score and segments from its segments; delete it
    when none is left (returns None then)."""
    from sqlalchemy import select

    from common.db.models import Event, EventSegment

    event = session.get(Event, event_id, with_for_update=True)
    if event is None:
        return None
    segments = list(
        session.execute(
            select(EventSegment)
            .where(EventSegment.event_id == event_id)
            .order_by(EventSegment.start_at, EventSegment.media_id, EventSegment.track_id)
        ).scalars()
    )
    if not segments:
        session.delete(event)
        return None
    first = segments[0]
    best = max(segments, key=lambda s: s.best_score)
    event.media_id, event.track_id = first.media_id, first.track_id
    event.start_at = first.start_at
    event.end_at = max(s.end_at for s in segments)
    event.best_score = best.best_score
    event.best_media_id, event.best_track_id = best.media_id, best.track_id
    event.segments = len(segments)
    return event


def record_events(
    session: Session, media: MediaObject, tracks: Iterable[TrackFacts]
) -> list[tuple[Event, str]]:
    """Make or continue the events of `media`'s tracks (module docstring).

    Args:
        session: the analysis transaction (the media row is locked by it).
        media: the analysed media, with `duration_ms` as analysis found it (None for a still).
        tracks: its reported tracks.

    Returns:
        (event, "created" | "updated") for each event this call made or continued.
    """
    from sqlalchemy import select

    from common.core.settings import get_settings
    from common.db.models import Event, EventSegment

    if media.parent_id is not None:
        return []
    settings = settings_for(session, media.device_id, media.camera_id)
    known = set(
        session.execute(
            select(EventSegment.track_id).where(EventSegment.media_id == media.id)
        ).scalars()
    )
    wanted: list[tuple[TrackFacts, str]] = []
    for track in tracks:
        label = settings.event_label(track.label)
        low = settings.min_score is not None and track.best_score < settings.min_score
        if label is not None and not low and track.track_id not in known:
            wanted.append((track, label))
    if not wanted:
        return []
    links: dict[int, str] = {}
    previous = _previous(session, media, media.duration_ms)
    if previous is not None:
        beginnings = [Beginning(t.track_id, label, t.first_ms, t.first_box) for t, label in wanted]
        links = continuations(
            _endings(session, previous),
            beginnings,
            previous_duration_ms=previous.duration_ms,
            edge_ms=get_settings().event_continuation_edge_ms,
        )
    changes: list[tuple[Event, str]] = []
    for track, label in wanted:
        event_id = links.get(track.track_id)
        created = event_id is None
        if event_id is None:
            event_id = new_id(EVENT_PREFIX)
            session.add(
                Event(
                    id=event_id,
                    media_id=media.id,
                    track_id=track.track_id,
                    device_id=media.device_id,
                    camera_id=media.camera_id,
                    label=label,
                    start_at=_at(media, track.first_ms),
                    end_at=_at(media, track.last_ms),
                    best_score=track.best_score,
                    best_media_id=media.id,
                    best_track_id=track.track_id,
                    segments=1,
                )
            )
        session.add(
            EventSegment(
                media_id=media.id,
                track_id=track.track_id,
                event_id=event_id,
                start_at=_at(media, track.first_ms),
                end_at=_at(media, track.last_ms),
                best_score=track.best_score,
            )
        )
        session.flush()
        event = refresh(session, event_id)
        assert event is not None
        changes.append((event, "created" if created else "updated"))
    return changes


def event_data(event: Event) -> dict[str, Any]:
    """An event as JSON-safe data (webhook payloads, the realtime mirror): its fields, no URLs."""
    from common.core.times import iso_utc

    return {
        "event_id": event.id,
        "media_id": event.media_id,
        "track_id": event.track_id,
        "device_id": event.device_id,
        "camera_id": event.camera_id,
        "label": event.label,
        "start_at": iso_utc(event.start_at),
        "end_at": iso_utc(event.end_at),
        "best_score": round(event.best_score, 4),
        "best_media_id": event.best_media_id,
        "best_track_id": event.best_track_id,
        "segments": event.segments,
        "reviewed_at": iso_utc(event.reviewed_at),
    }
