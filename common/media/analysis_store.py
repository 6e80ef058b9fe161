"""Writing what analysis found: renditions and track snapshots to the derivatives bucket, then
detections, tracks, motion segments and derivative rows in one transaction (replacing an earlier
analysis of the same media), and in the same transaction the events its tracks make
(`common.media.events`) with their webhook deliveries; after it, the deliveries are published
and the events mirrored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.core.settings import get_settings
from common.processing import ImageAnalysis
from common.storage import get_store, layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject
    from common.processing import VideoAnalysis


def _write_renditions(
    media_id: str, analysis: ImageAnalysis | VideoAnalysis
) -> list[dict[str, Any]]:
    store = get_store()
    bucket = get_settings().derivatives_bucket
    rows = []
    renditions = list(analysis.renditions)
    if isinstance(analysis, ImageAnalysis) and analysis.web is not None:
        renditions.append(analysis.web)
    for rendition in renditions:
        name = layout.derivative_object_name(media_id, rendition.kind, rendition.mime_type)
        store.write(bucket, name, rendition.data, rendition.mime_type)
        rows.append(
            {
                "media_id": media_id,
                "kind": rendition.kind,
                "bucket": bucket,
                "object_name": name,
                "width_px": rendition.width,
                "height_px": rendition.height,
                "mime_type": rendition.mime_type,
                "size_bytes": len(rendition.data),
            }
        )
    return rows


def _write_tracks(media_id: str, analysis: ImageAnalysis | VideoAnalysis) -> list[dict[str, Any]]:
    store = get_store()
    bucket = get_settings().derivatives_bucket
    rows = []
    for track in analysis.tracks:
        snapshot: dict[str, Any] = {}
        if track.snapshot is not None:
            name = layout.track_snapshot_object_name(media_id, track.track_id)
            store.write(bucket, name, track.snapshot.data, track.snapshot.mime_type)
            snapshot = {
                "snapshot_bucket": bucket,
                "snapshot_object_name": name,
                "snapshot_width_px": track.snapshot.width,
                "snapshot_height_px": track.snapshot.height,
            }
        x, y, w, h = track.box
        rows.append(
            {
                "media_id": media_id,
                "track_id": track.track_id,
                "label": track.label,
                "first_ms": track.first_ms,
                "last_ms": track.last_ms,
                "best_score": track.best_score,
                "median_score": track.median_score,
                "best_time_ms": track.best_time_ms,
                "x": x,
                "y": y,
                "w": w,
                "h": h,
                "boxes": track.boxes,
                "model": track.model,
                "stationary": track.stationary,
                **snapshot,
            }
        )
    return rows


def _record_events(
    session: Session,
    media: MediaObject,
    analysis: ImageAnalysis | VideoAnalysis,
    tracks: list[dict[str, Any]],
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """Events of this analysis (`common.media.events.build`), in its transaction.

    Returns:
        Webhook deliveries queued, event documents to mirror, ids of events deleted (segments of
        tracks an earlier analysis of the same media had and this one has not).
    """
    from sqlalchemy import select

    from common.db.models import EventSegment
    from common.media.events.build import TrackFacts, event_data, record_events
    from common.media.events.notify import queue_deliveries
    from common.media.events.removal import remove_segments

    first_boxes: dict[int, tuple[int, int, int, int]] = {}
    for d in sorted(analysis.detections, key=lambda d: d.time_ms or 0):
        if d.track_id is not None:
            first_boxes.setdefault(d.track_id, (d.x, d.y, d.w, d.h))
    facts = [
        TrackFacts(
            row["track_id"],
            row["label"],
            row["first_ms"],
            row["last_ms"],
            row["best_score"],
            first_boxes.get(row["track_id"], (row["x"], row["y"], row["w"], row["h"])),
        )
        for row in tracks
    ]
    present = {row["track_id"] for row in tracks}
    stale = (
        set(
            session.execute(
                select(EventSegment.track_id).where(EventSegment.media_id == media.id)
            ).scalars()
        )
        - present
    )
    changed, deleted = remove_segments(session, media.id, stale) if stale else ([], [])
    changes = record_events(session, media, facts)
    deliveries = queue_deliveries(session, changes, media.id)
    documents = [event_data(event) for event in changed] + [event_data(e) for e, _ in changes]
    return deliveries, documents, deleted


class MediaGone(Exception):
    """The media was deleted while it was analysed: nothing of the analysis is kept."""


def _replace(
    session: Session,
    media_id: str,
    analysis: ImageAnalysis | VideoAnalysis,
    derivatives: list[dict[str, Any]],
    tracks: list[dict[str, Any]],
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    from sqlalchemy import delete
    from sqlalchemy.dialects.postgresql import insert

    from common.core.status import GONE_STATUSES, MediaStatus
    from common.db.models import Derivative, Detection, MotionSegment, Track
    from common.db.repo import get_media

    # Lock the media row: a late duplicate replaces the results after us, never interleaved,
    # and a delete that began meanwhile wins.
    media = get_media(session, media_id, lock=True)
    if MediaStatus(media.status) in GONE_STATUSES:
        raise MediaGone(media_id)
    for model in (Detection, Track, MotionSegment):
        session.execute(delete(model).where(model.media_id == media_id))
    session.add_all(
        Detection(
            media_id=media_id,
            label=d.label,
            score=d.score,
            x=d.x,
            y=d.y,
            w=d.w,
            h=d.h,
            time_ms=d.time_ms,
            model=d.model,
            track_id=d.track_id,
        )
        for d in analysis.detections
    )
    session.add_all(Track(**row) for row in tracks)
    session.add_all(
        MotionSegment(
            media_id=media_id,
            start_ms=m.start_ms,
            end_ms=m.end_ms,
            area_px=m.area_px,
            area_fraction=m.area_fraction,
        )
        for m in getattr(analysis, "motion_segments", ())
    )
    for row in derivatives:
        statement = insert(Derivative).values(**row)
        session.execute(
            statement.on_conflict_do_update(
                constraint="uq_derivatives_media_kind",
                set_={k: statement.excluded[k] for k in row if k not in ("media_id", "kind")},
            )
        )
    session.flush()
    return _record_events(session, media, analysis, tracks)


def store_analysis(
    session: Session, media: MediaObject, analysis: ImageAnalysis | VideoAnalysis
) -> dict[str, Any]:
    """Write renditions and snapshots, and replace the result rows of one analysis in the
    caller's transaction (the caller commits them with the `processed` transition).

    Returns:
        The media columns the analysis determined (size, duration, codec, fps, decode warnings,
        the analysis summary), for the `processed` transition.

    Raises:
        MediaGone: the media was deleted meanwhile (what was written is removed again).
        StorageUnavailable, TransientError: storage or database trouble (retry).
    """
    from common.processing import VideoAnalysis

    derivatives = _write_renditions(media.id, analysis)
    tracks = _write_tracks(media.id, analysis)
    try:
        deliveries, documents, deleted = _replace(session, media.id, analysis, derivatives, tracks)
    except MediaGone:
        session.rollback()
        store = get_store()
        for row in derivatives:
            store.delete(row["bucket"], row["object_name"])
        for row in tracks:
            if row.get("snapshot_object_name"):
                store.delete(row["snapshot_bucket"], row["snapshot_object_name"])
        raise
    from common.db.engine import on_commit
    from common.media.events.notify import mirror_events, unmirror_events
    from common.webhooks.outbox import publish

    def announce() -> None:
        publish(deliveries)
        mirror_events(documents)
        unmirror_events(deleted)

    on_commit(session, announce)
    summary: dict[str, Any] = {
        "detectors": list(analysis.detectors),
        "counts": dict(analysis.counts),
    }
    fields: dict[str, Any] = {"width_px": analysis.width, "height_px": analysis.height}
    if isinstance(analysis, VideoAnalysis):
        fields.update(
            duration_ms=analysis.duration_ms, video_codec=analysis.codec, frame_rate=analysis.fps
        )
        summary.update(
            sampling=analysis.sampling,
            frames_sampled=analysis.frames_sampled,
            frames_detected=analysis.frames_detected,
            detect_interval_ms=analysis.detect_interval_ms,
        )
    fields["object_labels"] = sorted({track.label for track in analysis.tracks}) or None
    fields["decode_warnings"] = list(analysis.decode_warnings) or None
    fields["analysis"] = summary
    return fields
