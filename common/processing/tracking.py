"""Link boxes across sampled frames into tracks, and decide which tracks are reported.

A greedy IoU tracker in the manner of Bochinski, Eiselein & Sikora, "High-Speed Tracking-by-
Detection Without Using Image Information" (AVSS 2017): each new box joins the live track of its
label it overlaps most (IoU >= `iou_threshold`). Samples are far apart (a second or more), so a
walking person may not overlap their last box: a box also joins a track when its centre lies
within `_CENTRE_REACH` of the track's box size from the track's last centre and the two sizes
differ by less than 2x. A track dies when not seen for `max_gap_ms` (and, in a video, at least
two sample intervals).

A track is reported when the median of its score history reaches its label's `threshold`
(Frigate's rule, https://docs.frigate.video/configuration/object_filters), so one flickering box
does not become an event. Its snapshot is its best-scored box's frame cut with a margin.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from common.processing.types import Detection, Rendition, Track

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig

_CENTRE_REACH = 0.75  # centre distance allowed, in units of the larger side of the track's box
_SNAPSHOT_MARGIN = 0.2  # context kept around the box, as a fraction of its size on each side


@dataclass
class _Live:
    track_id: int
    label: str
    last: Detection
    scores: list[float]
    best: Detection
    crop: Any = None  # RGB numpy array of the best box's surroundings, shrunk
    boxes: list[Detection] = field(default_factory=list)


class IouTracker:
    """Tracks of one analysis (one image, or the samples of one video in time order)."""

    def __init__(self, config: AnalysisConfig, *, snapshots: bool = True) -> None:
        self._config = config
        self._snapshots = snapshots
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._next_id = 1
        self.interval_ms = 0  # the video's sample interval; widens the allowed gap
        self._seen_last = False
        self._scale = (1.0, 1.0)

    def update(
        self,
        detections: list[Detection],
        time_ms: int | None,
        frame_rgb: NDArray[np.uint8] | None,
        *,
        scale: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        """Add the (filtered) boxes of one frame that the detectors ran on.

        Args:
            detections: boxes of this frame, in source pixels.
            time_ms: the frame's time (None for a still image).
            frame_rgb: the frame, (height, width, 3) RGB, for snapshots (None: no snapshot).
            scale: source pixels per `frame_rgb` pixel, (x, y), when the frame is reduced.
        """
        self._scale = scale
        self._seen_last = bool(detections)
        if time_ms is not None:
            gap = max(self._config.track_max_gap_ms, 2 * self.interval_ms)
            ended = [t for t in self._live if (t.last.time_ms or 0) < time_ms - gap]
            self._done += ended
            self._live = [t for t in self._live if t not in ended]
        pairs = []
        for i, d in enumerate(detections):
            for j, track in enumerate(self._live):
                if track.label == d.label:
                    affinity = _affinity(track.last, d, self._config.track_iou)
                    if affinity > 0:
                        pairs.append((affinity, i, j))
        used_d: set[int] = set()
        used_t: set[int] = set()
        for _, i, j in sorted(pairs, key=lambda p: -p[0]):
            if i in used_d or j in used_t:
                continue
            used_d.add(i)
            used_t.add(j)
            self._extend(self._live[j], detections[i], frame_rgb)
        for i, d in enumerate(detections):
            if i not in used_d:
                track = _Live(self._next_id, d.label, d, [], d)
                self._next_id += 1
                self._extend(track, d, frame_rgb, new=True)
                self._live.append(track)

    @property
    def alive(self) -> bool:
        """True when the latest update had boxes (something may still be in view)."""
        return self._seen_last

    def finish(self) -> tuple[tuple[Track, ...], tuple[Detection, ...]]:
        """End every track; return the reported ones (by first appearance) and their boxes."""
        from common.processing import _render

        tracks: list[Track] = []
        boxes: list[Detection] = []
        for live in sorted(self._done + self._live, key=lambda t: t.track_id):
            median = statistics.median(live.scores)
            if median < self._config.filter_for(live.label).threshold:
                continue
            snapshot: Rendition | None = None
            if live.crop is not None:
                snapshot = _render.encode_array(live.crop, "snapshot")
            best = live.best
            tracks.append(
                Track(
                    track_id=live.track_id,
                    label=live.label,
                    first_ms=live.boxes[0].time_ms,
                    last_ms=live.boxes[-1].time_ms,
                    best_score=best.score,
                    median_score=round(median, 4),
                    best_time_ms=best.time_ms,
                    box=(best.x, best.y, best.w, best.h),
                    boxes=len(live.boxes),
                    model=best.model,
                    snapshot=snapshot,
                )
            )
            boxes += live.boxes
        return tuple(tracks), tuple(boxes)

    def _extend(
        self, track: _Live, d: Detection, frame_rgb: NDArray[np.uint8] | None, *, new: bool = False
    ) -> None:
        d = replace(d, track_id=track.track_id)
        track.boxes.append(d)
        track.scores.append(d.score)
        track.last = d
        if new or d.score > track.best.score:
            track.best = d
            if self._snapshots and frame_rgb is not None:
                track.crop = _crop(frame_rgb, d, self._config.snapshot_max_px, self._scale)


def _affinity(a: Detection, b: Detection, iou_threshold: float) -> float:
    """IoU when it reaches the threshold; else a small positive value for a near, similar box."""
    iw = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    ih = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = iw * ih
    iou = float(inter / (a.area_px + b.area_px - inter))
    if iou >= iou_threshold:
        return iou
    size_ratio = max(a.area_px, b.area_px) / max(1, min(a.area_px, b.area_px))
    dx = (a.x + a.w / 2) - (b.x + b.w / 2)
    dy = (a.y + a.h / 2) - (b.y + b.h / 2)
    reach = _CENTRE_REACH * max(a.w, a.h)
    distance = float(dx * dx + dy * dy) ** 0.5
    if size_ratio < 4.0 and distance < reach:
        return float(1e-3 * (1.0 - distance / reach))  # ranks below every IoU match
    return 0.0


def _crop(
    frame_rgb: NDArray[np.uint8], d: Detection, max_px: int, scale: tuple[float, float]
) -> NDArray[np.uint8]:
    """The box (source pixels) with a margin, cut from the frame, longest side <= `max_px`."""
    from common.processing import _cv

    cv2 = _cv.cv2()
    height, width = frame_rgb.shape[:2]
    sx, sy = scale
    bx, by, bw, bh = d.x / sx, d.y / sy, d.w / sx, d.h / sy
    mx, my = bw * _SNAPSHOT_MARGIN, bh * _SNAPSHOT_MARGIN
    x1, y1 = max(0, int(bx - mx)), max(0, int(by - my))
    x2 = min(width, max(x1 + 1, round(bx + bw + mx)))
    y2 = min(height, max(y1 + 1, round(by + bh + my)))
    crop = frame_rgb[y1:y2, x1:x2]
    shrink = max_px / max(crop.shape[:2])
    if shrink < 1.0:
        size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
        out: NDArray[np.uint8] = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        return out
    return crop.copy()
