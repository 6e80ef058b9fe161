"""Link boxes across a video's samples into tracks, and decide which tracks are reported.

A greedy IoU tracker in the manner of Bochinski, Eiselein & Sikora, "High-Speed Tracking-by-
Detection Without Using Image Information" (AVSS 2017), with a constant-velocity motion model as
in SORT (Bewley et al., ICIP 2016) without its Kalman filter: each live track predicts where its
object is at the new sample's time (its last box moved by the velocity of its last two boxes),
and each new box joins the live track of its label group whose predicted box it overlaps most
(IoU >= `track_iou`). A box that overlaps no prediction still joins a track when its centre lies
within `_CENTRE_REACH` of the predicted box's size from the predicted centre and the two sizes
differ by less than 4x (a walker whose samples are far apart); a small box may move further, as
far as a quarter of the frame's height a second allows, up to `_SMALL_REACH` of its size (a
walker's face moves several of its own sizes between samples). Labels of one group
(`AnalysisConfig.label_groups`: "car" and "vehicle") join one track, which reports the label it
scored best as.

A track survives missed samples: it ends when not seen for `track_max_gap_ms` (and at least two
sample intervals, or two and a half stationary intervals for a stationary object, which is only
looked at that often). A track whose centre stays within `_STILL_SHIFT` of its size (at least
`_STILL_MIN_PX` pixels) for `stationary_after_ms` is stationary: a parked car is one long track,
flagged as such.

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
_SMALL_REACH = 4.0  # ... up to this many sides for a small, fast box (a walker's face)
_SPEED_PER_SECOND = 0.25  # ... moving at most this many frame heights a second
_SNAPSHOT_MARGIN = 0.2  # context kept around the box, as a fraction of its size on each side
_STILL_SHIFT = 0.1  # a centre moving less than this fraction of the box's larger side is still
_STILL_MIN_PX = 4.0
_MAX_PREDICT_MS = 2000  # predictions do not run further ahead than this

Box = tuple[float, float, float, float]
"""(x, y, w, h) in source pixels."""


@dataclass
class _Live:
    track_id: int
    group: str
    last: Detection
    best: Detection
    scores: list[float] = field(default_factory=list)
    label_scores: dict[str, float] = field(default_factory=dict)
    crop: Any = None  # RGB numpy array of the best box's surroundings, shrunk
    boxes: list[Detection] = field(default_factory=list)
    velocity: tuple[float, float] = (0.0, 0.0)  # centre, pixels per ms
    anchor: tuple[float, float] = (0.0, 0.0)  # centre where it was last seen to move from
    anchor_ms: int = 0
    stationary: bool = False  # was still for stationary_after_ms at some point
    still: bool = False  # is still now


@dataclass(frozen=True)
class Prediction:
    """Where a live track's object is expected at a time.

    Attributes:
        track_id: the track.
        box: (x, y, w, h) in source pixels.
        still: it has not moved for `stationary_after_ms`.
        last_seen_ms: time of its last box.
    """

    track_id: int
    box: Box
    still: bool
    last_seen_ms: int


class IouTracker:
    """Tracks of one analysis (one image, or the samples of one video in time order).

    Attributes:
        interval_ms: the video's sampling interval (widens the allowed gap); 0 for a still.
        stationary_interval_ms: how often a still object is looked at (widens its gap).
    """

    def __init__(self, config: AnalysisConfig, *, snapshots: bool = True) -> None:
        self._config = config
        self._snapshots = snapshots
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._next_id = 1
        self.interval_ms = 0
        self.stationary_interval_ms = 0
        self._scale = (1.0, 1.0)
        self._frame_height = 0
        self._bgr = False

    def update(
        self,
        detections: list[Detection],
        time_ms: int | None,
        frame_rgb: NDArray[np.uint8] | None,
        *,
        scale: tuple[float, float] = (1.0, 1.0),
        bgr: bool = False,
    ) -> None:
        """Add the (filtered) boxes of one sample that the detectors ran on.

        Args:
            detections: boxes of this sample, in source pixels.
            time_ms: the sample's time (None for a still image).
            frame_rgb: the frame, (height, width, 3) RGB, for snapshots (None: no snapshot).
            scale: source pixels per `frame_rgb` pixel, (x, y), when the frame is reduced.
            bgr: the frame is BGR, not RGB (snapshots are turned to RGB as they are cut).
        """
        self._bgr = bgr
        self._scale = scale
        if frame_rgb is not None:
            self._frame_height = round(frame_rgb.shape[0] * scale[1])
        if time_ms is not None:
            self._end_lost(time_ms)
        predicted = {t.track_id: _predict(t, time_ms) for t in self._live}
        pairs = []
        for i, d in enumerate(detections):
            group = self._config.group_of(d.label)
            for j, track in enumerate(self._live):
                if track.group == group:
                    elapsed = 0 if time_ms is None else time_ms - (track.last.time_ms or 0)
                    travel = _SPEED_PER_SECOND * self._frame_height * elapsed / 1000
                    affinity = _affinity(
                        predicted[track.track_id], d, self._config.track_iou, travel
                    )
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
                track = _Live(self._next_id, self._config.group_of(d.label), d, d)
                self._next_id += 1
                self._extend(track, d, frame_rgb, new=True)
                self._live.append(track)

    def predictions(self, time_ms: int) -> list[Prediction]:
        """Where each live track's object is expected at `time_ms` (tracks lost by then are
        ended first)."""
        self._end_lost(time_ms)
        return [
            Prediction(t.track_id, _predict(t, time_ms), t.still, t.last.time_ms or 0)
            for t in self._live
        ]

    @property
    def moving(self) -> bool:
        """True while some live track is not still (worth sampling at the full rate)."""
        return any(not t.still for t in self._live)

    def finish(self) -> tuple[tuple[Track, ...], tuple[Detection, ...]]:
        """End every track; return the reported ones (by first appearance) and their boxes."""
        from common.processing import _render

        tracks: list[Track] = []
        boxes: list[Detection] = []
        for live in sorted(self._done + self._live, key=lambda t: t.track_id):
            label = max(live.label_scores.items(), key=lambda item: item[1])[0]
            median = statistics.median(live.scores)
            if median < self._config.filter_for(label).threshold:
                continue
            snapshot: Rendition | None = None
            if live.crop is not None:
                snapshot = _render.encode_array(live.crop, "snapshot")
            best = live.best
            tracks.append(
                Track(
                    track_id=live.track_id,
                    label=label,
                    first_ms=live.boxes[0].time_ms,
                    last_ms=live.boxes[-1].time_ms,
                    best_score=best.score,
                    median_score=round(median, 4),
                    best_time_ms=best.time_ms,
                    box=(best.x, best.y, best.w, best.h),
                    boxes=len(live.boxes),
                    model=best.model,
                    snapshot=snapshot,
                    stationary=live.stationary,
                )
            )
            boxes += [replace(d, label=label) if d.label != label else d for d in live.boxes]
        return tuple(tracks), tuple(boxes)

    def _end_lost(self, time_ms: int) -> None:
        base = max(self._config.track_max_gap_ms, 2 * self.interval_ms)
        still_gap = max(base, round(2.5 * self.stationary_interval_ms))
        ended = [
            t
            for t in self._live
            if (t.last.time_ms or 0) < time_ms - (still_gap if t.still else base)
        ]
        if ended:
            self._done += ended
            self._live = [t for t in self._live if t not in ended]

    def _extend(
        self, track: _Live, d: Detection, frame_rgb: NDArray[np.uint8] | None, *, new: bool = False
    ) -> None:
        d = replace(d, track_id=track.track_id)
        centre = (d.x + d.w / 2, d.y + d.h / 2)
        if new:
            track.anchor, track.anchor_ms = centre, d.time_ms or 0
        else:
            previous = track.last
            dt = (d.time_ms or 0) - (previous.time_ms or 0)
            if dt > 0:
                px, py = previous.x + previous.w / 2, previous.y + previous.h / 2
                track.velocity = ((centre[0] - px) / dt, (centre[1] - py) / dt)
            shift = ((centre[0] - track.anchor[0]) ** 2 + (centre[1] - track.anchor[1]) ** 2) ** 0.5
            if shift > max(_STILL_MIN_PX, _STILL_SHIFT * max(d.w, d.h)):
                track.anchor, track.anchor_ms = centre, d.time_ms or 0
                track.still = False
            elif (d.time_ms or 0) - track.anchor_ms >= self._config.stationary_after_ms:
                track.still = track.stationary = True
        track.boxes.append(d)
        track.scores.append(d.score)
        track.label_scores[d.label] = track.label_scores.get(d.label, 0.0) + d.score
        track.last = d
        if new or d.score > track.best.score:
            track.best = d
            if self._snapshots and frame_rgb is not None:
                track.crop = _crop(
                    frame_rgb, d, self._config.snapshot_max_px, self._scale, bgr=self._bgr
                )


def _predict(track: _Live, time_ms: int | None) -> Box:
    last = track.last
    if time_ms is None or last.time_ms is None or track.still:
        return (last.x, last.y, last.w, last.h)
    ahead = min(max(0, time_ms - last.time_ms), _MAX_PREDICT_MS)
    vx, vy = track.velocity
    return (last.x + vx * ahead, last.y + vy * ahead, last.w, last.h)


def _affinity(predicted: Box, b: Detection, iou_threshold: float, travel_px: float = 0.0) -> float:
    """IoU with the predicted box when it reaches the threshold; else a small positive value for
    a near box of similar size (near: see the module docstring; `travel_px` is how far an object
    may have gone since its track was last seen); else 0."""
    ax, ay, aw, ah = predicted
    iw = max(0.0, min(ax + aw, b.x + b.w) - max(ax, b.x))
    ih = max(0.0, min(ay + ah, b.y + b.h) - max(ay, b.y))
    inter = iw * ih
    area = aw * ah
    iou = inter / (area + b.area_px - inter) if area + b.area_px - inter > 0 else 0.0
    if iou >= iou_threshold:
        return float(iou)
    size_ratio = max(area, b.area_px) / max(1.0, min(area, b.area_px))
    dx = (ax + aw / 2) - (b.x + b.w / 2)
    dy = (ay + ah / 2) - (b.y + b.h / 2)
    side = max(aw, ah)
    reach = max(_CENTRE_REACH * side, min(_SMALL_REACH * side, travel_px))
    distance = float(dx * dx + dy * dy) ** 0.5
    if size_ratio < 4.0 and distance < reach:
        return float(1e-3 * (1.0 - distance / reach))  # ranks below every IoU match
    return 0.0


def _crop(
    frame_rgb: NDArray[np.uint8],
    d: Detection,
    max_px: int,
    scale: tuple[float, float],
    *,
    bgr: bool = False,
) -> NDArray[np.uint8]:
    """The box (source pixels) with a margin, cut from the frame, longest side <= `max_px`, RGB
    (turned from BGR when `bgr`)."""
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
    if bgr:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    shrink = max_px / max(crop.shape[:2])
    if shrink < 1.0:
        size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
        out: NDArray[np.uint8] = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        return out
    return crop.copy()
