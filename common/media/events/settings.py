"""Which tracks a camera turns into events: its labels, a minimum score, and event clips.

A camera without settings (`camera_event_settings`) gets `DEFAULT_EVENT_LABELS`, no score floor
and no clips. An event's label is a label the camera lists; `car` stands for every motor vehicle
the detector tells apart: its tracks labelled `car` and `vehicle` (Open Images' generic vehicle:
buses, trucks, vans; the detector's label group), while a camera that lists `vehicle` alone hears
only of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_EVENT_LABELS: Final = ("person", "dog", "cat", "car")
EVENT_LABEL_COVERS: Final = {"car": ("car", "vehicle")}
"""Event labels that cover more than their own track label."""
MAX_CLIP_PADDING_MS: Final = 30_000


@dataclass(frozen=True)
class EventSettings:
    """A camera's event settings.

    Attributes:
        labels: event labels, in the camera owner's order.
        min_score: tracks whose best score is below it make no event (None: any reported track).
        clips: cut a clip around each event (`common.jobs.event_clips`).
        clip_pre_ms: padding before the event's start, in milliseconds.
        clip_post_ms: padding after its end.
    """

    labels: tuple[str, ...] = DEFAULT_EVENT_LABELS
    min_score: float | None = None
    clips: bool = False
    clip_pre_ms: int = 5000
    clip_post_ms: int = 5000

    def event_label(self, track_label: str) -> str | None:
        """The event label a track of `track_label` makes on this camera (None: no event)."""
        for label in self.labels:
            if track_label == label or track_label in EVENT_LABEL_COVERS.get(label, ()):
                return label
        return None


def settings_for(session: Session, device_id: str, camera_id: str) -> EventSettings:
    """The camera's settings, or the defaults."""
    from common.db.models import CameraEventSettings

    row = session.get(CameraEventSettings, (device_id, camera_id))
    if row is None:
        return EventSettings()
    return EventSettings(
        labels=tuple(row.labels),
        min_score=row.min_score,
        clips=row.clips,
        clip_pre_ms=row.clip_pre_ms,
        clip_post_ms=row.clip_post_ms,
    )


def save_settings(
    session: Session, device_id: str, camera_id: str, settings: EventSettings, actor: str
) -> None:
    """Replace the camera's settings (in the caller's transaction)."""
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import CameraEventSettings

    values = {
        "labels": list(settings.labels),
        "min_score": settings.min_score,
        "clips": settings.clips,
        "clip_pre_ms": settings.clip_pre_ms,
        "clip_post_ms": settings.clip_post_ms,
        "updated_by": actor,
    }
    statement = insert(CameraEventSettings).values(
        device_id=device_id, camera_id=camera_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id", "camera_id"], set_={**values, "updated_at": _now()}
        )
    )


def _now() -> object:
    from sqlalchemy import func

    return func.now()
