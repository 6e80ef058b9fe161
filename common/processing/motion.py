"""Motion on sampled video frames: OpenCV background subtraction on small greyscale copies.

Each sample is shrunk to `width_px` wide, turned grey and blurred (5x5 Gaussian, which hides
compression noise), then fed to OpenCV's MOG2 background subtractor (Zivkovic, "Improved adaptive
Gaussian mixture model for background subtraction", ICPR 2004;
https://docs.opencv.org/4.x/d7/d7b/classcv_1_1BackgroundSubtractorMOG2.html) with a short
history, since samples are about a second apart. The foreground mask is cleaned by a 3x3 opening;
its share of the frame is the sample's motion. The first sample only initialises the model.
Consecutive samples with motion form `MotionSegment`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.processing import _cv
from common.processing.types import MotionSegment

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_HISTORY = 8  # samples the background model remembers
_VAR_THRESHOLD = 32.0  # squared Mahalanobis distance above which a pixel is foreground


@dataclass(frozen=True)
class MotionSample:
    """Motion seen at one sample.

    Attributes:
        time_ms: the sample's time.
        area_fraction: share of the frame that is foreground (0..1).
        moving: `area_fraction` reached the configured minimum.
    """

    time_ms: int
    area_fraction: float
    moving: bool


class MotionDetector:
    """Background subtraction over the samples of one video, in time order."""

    def __init__(self, *, width_px: int = 320, min_area_fraction: float = 0.002) -> None:
        cv2 = _cv.cv2()

        self._width_px = width_px
        self._min_area_fraction = min_area_fraction
        self._subtractor: Any = cv2.createBackgroundSubtractorMOG2(
            history=_HISTORY, varThreshold=_VAR_THRESHOLD, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._seen = 0
        self.samples: list[MotionSample] = []

    def observe(self, frame_rgb: NDArray[np.uint8], time_ms: int) -> MotionSample:
        """Feed one sample (height, width, 3) RGB uint8; return the motion it shows."""
        cv2 = _cv.cv2()

        return self.observe_gray(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY), time_ms)

    def observe_gray(self, frame_gray: NDArray[np.uint8], time_ms: int) -> MotionSample:
        """Feed one sample as greyscale (height, width) uint8, ideally already `width_px` wide
        (video analysis has the decoder's scaler produce it: no RGB frame is needed for a
        sample the detectors then skip); return the motion it shows."""
        cv2 = _cv.cv2()

        height, width = frame_gray.shape[:2]
        scale = min(1.0, self._width_px / width)
        small = frame_gray
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(frame_gray, size, interpolation=cv2.INTER_AREA)
        gray = cv2.GaussianBlur(small, (5, 5), 0)
        mask = self._subtractor.apply(gray, learningRate=-1)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        fraction = 0.0 if self._seen == 0 else float(cv2.countNonZero(mask)) / mask.size
        self._seen += 1
        sample = MotionSample(time_ms, round(fraction, 5), fraction >= self._min_area_fraction)
        self.samples.append(sample)
        return sample


def segments(
    samples: list[MotionSample], *, duration_ms: int, frame_area_px: int
) -> tuple[MotionSegment, ...]:
    """Group consecutive moving samples into segments.

    Args:
        samples: the samples in time order.
        duration_ms: the video's duration; the end of a segment that reaches the last sample.
        frame_area_px: the frame's area in source pixels, for `MotionSegment.area_px`.

    Returns:
        Segments from the first moving sample of a run to the next still sample (exclusive).
    """
    out: list[MotionSegment] = []
    start: MotionSample | None = None
    peak = 0.0
    for sample in samples:
        if sample.moving:
            if start is None:
                start, peak = sample, 0.0
            peak = max(peak, sample.area_fraction)
        elif start is not None:
            out.append(_segment(start.time_ms, sample.time_ms, peak, frame_area_px))
            start = None
    if start is not None:
        out.append(
            _segment(start.time_ms, max(duration_ms, start.time_ms + 1), peak, frame_area_px)
        )
    return tuple(out)


def _segment(start_ms: int, end_ms: int, fraction: float, frame_area_px: int) -> MotionSegment:
    return MotionSegment(start_ms, end_ms, round(fraction * frame_area_px), fraction)
