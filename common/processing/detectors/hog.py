"""The "people" detector: OpenCV's HOG + linear SVM pedestrian detector (Dalal & Triggs).

Upright, whole, mostly unoccluded people of at least 64 x 128 pixels in its working copy; see
`common.processing.detection`. Not a default since the "objects" detector (an SSD trained on Open
Images) finds people of every pose and size it does and many it does not; kept as an option for
installs without the object model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from common.processing._frozen import Frozen
from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class PeopleSearch(Frozen):
    """How the HOG people detector scans a frame (Dalal & Triggs' sliding 64x128 window).

    Attributes:
        max_side_px: people are searched in a copy no larger than this on its longest side; a
            person must fill HOG's 128-pixel window in it.
        max_area_px: and no larger than this many pixels (None: no bound); 640 x 480 leaves 4:3
            and wider frames at `max_side_px` and shrinks squarer ones.
        scale_step: scale between pyramid levels (OpenCV's `detectMultiScale(scale=...)`); the
            work is about 1 / (1 - 1 / scale_step^2) times one level's.
        stride_px: window step in pixels, a multiple of HOG's 8-pixel cell.
        pad_fraction: border replicated above and below, as a fraction of the height (half of it
            left and right), so that people cut by the frame's edge still fill a window.
        group_threshold: OpenCV's `groupThreshold`: a box is reported where more than this many
            overlapping windows fired.
    """

    max_side_px: int = Field(default=640, ge=128)
    max_area_px: int | None = Field(default=640 * 480, ge=128 * 64)
    scale_step: float = Field(default=1.15, gt=1.0, le=2.0)
    stride_px: int = Field(default=8, ge=8, le=32, multiple_of=8)
    pad_fraction: float = Field(default=0.25, ge=0.0, le=1.0)
    group_threshold: int = Field(default=2, ge=0, le=10)


class HogConfig(Frozen):
    """Configuration of the "people" (HOG) detector.

    Attributes:
        kind: "people".
        search: the HOG search (working size, pyramid step, stride, padding).
    """

    kind: Literal["people"] = "people"
    search: PeopleSearch = PeopleSearch()

    def build(self) -> PeopleDetector:
        """The detector."""
        return PeopleDetector(self)


class PeopleDetector:
    """People: OpenCV's default HOG people detector.

    Attributes:
        name: "opencv-hog-people-default".
        labels: ("person",).
        region_px: None: it searches a whole frame with its own pyramid.
        max_side_px: the longest side it searches at.
    """

    labels: tuple[str, ...] = ("person",)
    region_px: int | None = None

    def __init__(self, config: HogConfig) -> None:
        from common.processing import detection

        self.name = detection.HOG_MODEL
        self._search = config.search
        self.max_side_px: int | None = config.search.max_side_px

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """People in a BGR frame (height, width, 3) uint8; boxes in its pixels, best first."""
        from common.processing import detection

        return detection.detect_people(frame_bgr, time_ms=time_ms, search=self._search)
