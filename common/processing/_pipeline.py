"""Per-frame analysis shared by images and videos: detect (on regions), filter, track."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from common.processing.derived import kept_with_derived
from common.processing.detectors import get_detectors, merge_labels, pool, region_pool
from common.processing.regions import Region, head_regions, merge_found, tiles
from common.processing.tracking import IouTracker

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig
    from common.processing.detectors import Detector
    from common.processing.types import Detection, Track

_HEAD_MIN_SIDE_PX = 160  # head crops are enlarged to this so that MTCNN sees faces of 12 px


class FrameAnalyzer:
    """Runs the configured detectors on frames (whole, tiled, or on regions), filters the boxes
    and feeds them to a tracker.

    Attributes:
        detector_names: the `name` of each detector, in configured order.
        region_px: the smallest input side of the region detectors (None: there are none).
        max_side_px: the longest frame side worth converting a frame to for the whole-frame
            detectors (None: any size helps).
        frames_detected: frames the detectors ran on.
        regions_detected: region-detector runs (one per region or tile).
        raw_detections: every box the detectors returned, before filters (for evaluation).
        tracker: the tracks so far.
    """

    def __init__(self, config: AnalysisConfig, *, snapshots: bool = True) -> None:
        """Build (or reuse) the detectors.

        Raises:
            ValueError, OSError, ModelChecksumError: as `get_detectors`.
        """
        self._config = config
        detectors = get_detectors(config)
        self.detector_names = tuple(d.name for d in detectors)
        self._regional = [d for d in detectors if d.region_px is not None]
        self._whole = [d for d in detectors if d.region_px is None]
        sides = [d.region_px for d in self._regional if d.region_px is not None]
        self.region_px: int | None = min(sides) if sides else None
        whole_sides = [d.max_side_px for d in self._whole]
        known = [s for s in whole_sides if s is not None]
        complete = bool(known) and len(known) == len(whole_sides)
        self.max_side_px: int | None = max(known) if complete else None
        self.tracker = IouTracker(config, snapshots=snapshots)
        self.frames_detected = 0
        self.regions_detected = 0
        self.raw_detections: list[Detection] = []

    def analyze(
        self,
        frame_rgb: NDArray[np.uint8],
        time_ms: int | None,
        *,
        source_size: tuple[int, int] | None = None,
        regions: Sequence[Region] | None = None,
        bgr: bool = False,
        faces: bool = True,
    ) -> list[Detection]:
        """Detect, map to source pixels, filter and track one frame.

        Args:
            frame_rgb: the frame, (height, width, 3) uint8, RGB (BGR with `bgr`).
            time_ms: its time (None for a still image).
            source_size: (width, height) of the full-resolution source when `frame_rgb` is a
                reduced copy of it; boxes are scaled to it. None: the frame is the source.
            regions: where to look, in `frame_rgb`'s pixels. None is a full pass: region
                detectors on the whole frame and its tiles, whole-frame detectors on the whole
                frame. Otherwise every detector runs on the regions only, except faces (with
                `faces_in_people`), which are searched around the people found.
            bgr: the frame is BGR (as OpenCV's detectors take it), not RGB.
            faces: False skips the face search around people on this sample (video analysis
                searches heads at most once a second).

        Returns:
            The boxes that passed the filters, in source pixels.
        """
        from common.processing import _cv

        cv2 = _cv.cv2()
        height, width = frame_rgb.shape[:2]
        frame_bgr = frame_rgb if bgr else cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        full = regions is None
        frame: list[Region] = [(0, 0, width, height)]
        plan: list[tuple[Detector, Sequence[Region]]] = []
        later: list[Detector] = []
        for detector in self._regional:
            region_px = detector.region_px or 0
            wanted = (
                tiles(width, height, region_px, self._config.max_tile_grid) if full else regions
            )
            plan.append((detector, wanted or []))
        for detector in self._whole:
            if full:
                plan.append((detector, frame))
            elif "face" in detector.labels and self._config.faces_in_people and self._regional:
                later.append(detector)
            else:
                plan.append((detector, regions or []))
        found = self._run(plan, frame_bgr, time_ms)
        if later and faces:
            people = [d for d in found if d.label == "person"]
            people = [d for d in people if d.score >= self._config.filter_for("person").min_score]
            heads = head_regions(people, width, height, max_count=3, min_height_px=60)
            found += self._run([(d, heads) for d in later], frame_bgr, time_ms)
        scale = (1.0, 1.0)
        if source_size is not None and source_size != (width, height):
            scale = (source_size[0] / width, source_size[1] / height)
            found = [_scaled(d, scale, source_size) for d in found]
        else:
            source_size = (width, height)
        self.frames_detected += 1
        self.raw_detections += found
        kept = kept_with_derived(found, self._config, *source_size)
        self.tracker.update(kept, time_ms, frame_rgb, scale=scale, bgr=bgr)
        return kept

    def finish(self) -> tuple[tuple[Track, ...], tuple[Detection, ...]]:
        """The reported tracks and their boxes (see `IouTracker.finish`)."""
        return self.tracker.finish()

    def _run(
        self,
        plan: list[tuple[Detector, Sequence[Region]]],
        bgr: NDArray[np.uint8],
        time_ms: int | None,
    ) -> list[Detection]:
        """Each detector on its regions (detectors in parallel threads), merged per detector
        across regions and then across detectors that share a label."""
        plan = [(detector, regions) for detector, regions in plan if regions]
        if not plan:
            return []
        self.regions_detected += sum(len(r) for d, r in plan if d.region_px is not None)
        if len(plan) == 1:
            per_detector = [self._on_regions(plan[0][0], plan[0][1], bgr, time_ms)]
        else:
            futures = [pool().submit(self._on_regions, d, r, bgr, time_ms) for d, r in plan]
            per_detector = [future.result() for future in futures]
        return merge_labels([detector for detector, _ in plan], per_detector)

    def _on_regions(
        self,
        detector: Detector,
        regions: Sequence[Region],
        bgr: NDArray[np.uint8],
        time_ms: int | None,
    ) -> list[Detection]:
        from common.processing import _cv

        cv2 = _cv.cv2()
        height, width = bgr.shape[:2]
        enlarge = detector.region_px is None and "face" in detector.labels

        def one(region: Region) -> tuple[Region, list[Detection]]:
            x1, y1, x2, y2 = region
            crop = bgr[y1:y2, x1:x2]
            factor = 1.0
            if (
                enlarge
                and max(crop.shape[:2]) < _HEAD_MIN_SIDE_PX
                and region != (0, 0, width, height)
            ):
                factor = _HEAD_MIN_SIDE_PX / max(crop.shape[:2])
                size = (round(crop.shape[1] * factor), round(crop.shape[0] * factor))
                crop = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)
            boxes = detector.detect(crop, time_ms=time_ms)
            return region, [_placed(d, region, factor) for d in boxes]

        if detector.region_px is not None and len(regions) > 1:
            # a region detector's session runs each call on one thread and releases the GIL:
            # the regions of a sample share the cores
            per_region = list(region_pool().map(one, regions))
        else:
            per_region = [one(region) for region in regions]
        if len(per_region) == 1:
            return per_region[0][1]
        return merge_found(per_region, width, height, self._config.group_of)


def _placed(d: Detection, region: Region, factor: float) -> Detection:
    """A box found in a (possibly enlarged) crop, in the frame's pixels."""
    import math

    if factor == 1.0:
        return replace(d, x=d.x + region[0], y=d.y + region[1])
    x1 = math.floor(d.x / factor) + region[0]
    y1 = math.floor(d.y / factor) + region[1]
    x2 = min(region[2], math.ceil((d.x + d.w) / factor) + region[0])
    y2 = min(region[3], math.ceil((d.y + d.h) / factor) + region[1])
    return replace(d, x=x1, y=y1, w=max(1, x2 - x1), h=max(1, y2 - y1))


def _scaled(d: Detection, scale: tuple[float, float], size: tuple[int, int]) -> Detection:
    import math

    sx, sy = scale
    x1, y1 = math.floor(d.x * sx), math.floor(d.y * sy)
    x2 = min(size[0], math.ceil((d.x + d.w) * sx))
    y2 = min(size[1], math.ceil((d.y + d.h) * sy))
    return replace(d, x=x1, y=y1, w=max(1, x2 - x1), h=max(1, y2 - y1))
