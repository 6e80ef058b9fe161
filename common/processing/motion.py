"""Motion in every decoded video frame: a running-average background on small greyscale copies.

The method is Frigate's motion detector (https://docs.frigate.video/configuration/motion_detection;
its `ImprovedMotionDetector`): each frame, already shrunk by the decoder's scaler to a greyscale
copy `motion_height_px` tall, is blurred (3x3 Gaussian, which hides compression noise) and
compared with a running average of the past frames (`cv2.accumulateWeighted`, weight
`_FRAME_ALPHA` per frame, so the background follows slow light changes within seconds); pixels
differing by more than `threshold` grey levels are moving; the mask is dilated to join the parts
of one object, and the bounding boxes of its contours (`cv2.findContours`) are the motion boxes.
A frame where most of the picture changes at once (a light switched on, an exposure step, the
camera moved) re-learns the background from it instead of reporting everything as motion, as
Frigate's `lightning_threshold` does. Consecutive frames with motion form `MotionSegment`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.processing import _cv
from common.processing.types import MotionSegment

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_FRAME_ALPHA = 0.02  # weight of each new frame in the background average
_LIGHTNING_FRACTION = 0.6  # more of the frame than this changing at once: re-learn, no motion
_MIN_CONTOUR_FRACTION = 0.0005  # contours smaller than this share of the frame are noise


@dataclass(frozen=True)
class MotionSample:
    """Motion seen in one frame.

    Attributes:
        time_ms: the frame's time.
        area_fraction: share of the frame that moves (0..1).
        moving: `area_fraction` reached the configured minimum.
        boxes: the moving areas as (x, y, w, h) in pixels of the greyscale copy.
    """

    time_ms: int
    area_fraction: float
    moving: bool
    boxes: tuple[tuple[int, int, int, int], ...] = ()


class MotionDetector:
    """A running-average background over the frames of one video, in time order.

    Attributes:
        samples: every frame's `MotionSample` so far (without boxes, to bound memory).
    """

    def __init__(self, *, threshold: int = 25, min_area_fraction: float = 0.001) -> None:
        cv2 = _cv.cv2()

        self._threshold = threshold
        self._min_area_fraction = min_area_fraction
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._average: NDArray[np.float32] | None = None
        self.samples: list[MotionSample] = []

    def observe_gray(self, frame_gray: NDArray[np.uint8], time_ms: int) -> MotionSample:
        """Feed one frame as greyscale (height, width) uint8; return the motion it shows."""
        import numpy as np

        cv2 = _cv.cv2()
        gray = cv2.GaussianBlur(frame_gray, (3, 3), 0)
        if self._average is None or self._average.shape != gray.shape:
            self._average = gray.astype(np.float32)
            return self._record(MotionSample(time_ms, 0.0, False))
        diff = cv2.absdiff(gray, cv2.convertScaleAbs(self._average))
        cv2.accumulateWeighted(gray, self._average, _FRAME_ALPHA)
        _, mask = cv2.threshold(diff, self._threshold, 255, cv2.THRESH_BINARY)
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        fraction = float(cv2.countNonZero(mask)) / mask.size
        if fraction > _LIGHTNING_FRACTION:
            self._average = gray.astype(np.float32)
            return self._record(MotionSample(time_ms, 0.0, False))
        boxes: tuple[tuple[int, int, int, int], ...] = ()
        moving = fraction >= self._min_area_fraction and fraction > 0.0
        if moving:
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            smallest = _MIN_CONTOUR_FRACTION * mask.size
            boxes = tuple(
                tuple(int(v) for v in cv2.boundingRect(c))  # type: ignore[misc]
                for c in contours
                if cv2.contourArea(c) >= smallest
            )
            moving = bool(boxes)
        return self._record(MotionSample(time_ms, round(fraction, 5), moving, boxes))

    def _record(self, sample: MotionSample) -> MotionSample:
        self.samples.append(MotionSample(sample.time_ms, sample.area_fraction, sample.moving))
        return sample


def segments(
    samples: list[MotionSample],
    *,
    duration_ms: int,
    frame_area_px: int,
    min_gap_ms: int = 1000,
) -> tuple[MotionSegment, ...]:
    """Group moving samples into segments; stills shorter than `min_gap_ms` do not split one.

    Args:
        samples: the samples in time order.
        duration_ms: the video's duration; the end of a segment that reaches the last sample.
        frame_area_px: the frame's area in source pixels, for `MotionSegment.area_px`.
        min_gap_ms: a segment ends only when no motion follows for this long.

    Returns:
        Segments from a first moving sample to the first still sample after the last moving one
        (exclusive).
    """
    out: list[MotionSegment] = []
    start: int | None = None
    end: int | None = None  # first still sample after the last moving one
    peak = 0.0
    for sample in samples:
        if sample.moving:
            if start is not None and end is not None and sample.time_ms - end > min_gap_ms:
                out.append(_segment(start, end, peak, frame_area_px))
                start = None
            if start is None:
                start, peak = sample.time_ms, 0.0
            end = None
            peak = max(peak, sample.area_fraction)
        elif start is not None and end is None:
            end = sample.time_ms
    if start is not None:
        last = end if end is not None else max(duration_ms, start + 1)
        out.append(_segment(start, last, peak, frame_area_px))
    return tuple(out)


def _segment(start_ms: int, end_ms: int, fraction: float, frame_area_px: int) -> MotionSegment:
    return MotionSegment(start_ms, end_ms, round(fraction * frame_area_px), fraction)
