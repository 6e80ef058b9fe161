"""When a recording continues the previous recording's event instead of starting a new one.

The rule (docs/CONTRACTS.md, "Events"), for a track `t` of event label `L` in recording `M` of
camera `C`:

1. `P` is `C`'s latest recording captured before `M` that is processed and not deleted, and `M`
   starts within `gap_ms` of `P`'s end (`|M.captured_at - (P.captured_at + P.duration_ms)| <=
   gap_ms`; a still is a recording of no duration);
2. `t` is there at `M`'s start: `t.first_ms <= edge_ms` (a still's track always is);
3. `P` holds a segment of an event of label `L` whose track is there at `P`'s end:
   `P.duration_ms - last_ms <= edge_ms`;
4. that track's last box and `t`'s first box overlap (intersection over union > 0: the camera
   did not move, so the object is where it was).

Among several such events the one whose box overlaps most is continued; an event is continued
by at most one track of `M`. Recordings are taken in the order they are processed: a recording
processed before the one captured just ahead of it starts its own event.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[int, int, int, int]
"""(x, y, w, h) in source pixels."""


@dataclass(frozen=True)
class Ending:
    """A segment of the previous recording that may be continued.

    Attributes:
        event_id: its event.
        label: the event's label.
        last_ms: the track's last time in the previous recording (None for a still).
        last_box: the track's last box.
    """

    event_id: str
    label: str
    last_ms: int | None
    last_box: Box


@dataclass(frozen=True)
class Beginning:
    """A track of the new recording, as the rule sees it.

    Attributes:
        track_id: its id in the new recording.
        label: the event label it makes.
        first_ms: its first time (None for a still).
        first_box: its first box.
    """

    track_id: int
    label: str
    first_ms: int | None
    first_box: Box


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes (0 when they do not touch)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / float(aw * ah + bw * bh - inter)


def continuations(
    endings: list[Ending],
    beginnings: list[Beginning],
    *,
    previous_duration_ms: int | None,
    edge_ms: int,
) -> dict[int, str]:
    """Which tracks of the new recording continue which events (rules 2 to 4; the caller has
    checked rule 1).

    Returns:
        Track id of the new recording -> event id it continues.
    """
    duration = previous_duration_ms or 0
    open_endings = [e for e in endings if e.last_ms is None or duration - e.last_ms <= edge_ms]
    pairs = sorted(
        (
            (iou(e.last_box, b.first_box), b.track_id, e.event_id)
            for b in beginnings
            if b.first_ms is None or b.first_ms <= edge_ms
            for e in open_endings
            if e.label == b.label
        ),
        reverse=True,
    )
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for overlap, track_id, event_id in pairs:
        if overlap <= 0.0 or track_id in chosen or event_id in taken:
            continue
        chosen[track_id] = event_id
        taken.add(event_id)
    return chosen
