"""Box arithmetic on numpy arrays: IoU, greedy and class-wise NMS, letterbox geometry.

Boxes are rows (x1, y1, x2, y2) of float corners with exclusive right/bottom edges (x2 = x1 + w).
numpy is imported inside the functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def iou_one_to_many(box: NDArray[Any], boxes: NDArray[Any]) -> NDArray[np.float64]:
    """IoU of one box (4,) with each of `boxes` (n, 4)."""
    import numpy as np

    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    out: NDArray[np.float64] = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return out


def nms(boxes: NDArray[Any], scores: NDArray[Any], iou_threshold: float) -> NDArray[np.intp]:
    """Greedy non-maximum suppression (Neubeck & Van Gool, ICPR 2006; as in torchvision.ops.nms).

    Args:
        boxes: (n, 4) corners.
        scores: (n,) scores.
        iou_threshold: a box is dropped when its IoU with a better kept box exceeds this.

    Returns:
        Indices of the kept boxes, best score first (ties keep input order).
    """
    import numpy as np

    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def batched_nms(
    boxes: NDArray[Any], scores: NDArray[Any], classes: NDArray[Any], iou_threshold: float
) -> NDArray[np.intp]:
    """Class-wise NMS: boxes of different classes never suppress each other.

    Each class's boxes are shifted by a distinct offset larger than every coordinate, so one NMS
    pass never lets two classes overlap (the trick of torchvision's `batched_nms`).

    Returns:
        Indices of the kept boxes, best score first.
    """
    import numpy as np

    if len(boxes) == 0:
        return np.empty(0, dtype=np.intp)
    span = float(np.max(boxes) - min(0.0, float(np.min(boxes)))) + 1.0
    shifted = boxes + (np.asarray(classes, dtype=np.float64) * span)[:, None]
    return nms(shifted, scores, iou_threshold)


@dataclass(frozen=True)
class Letterbox:
    """Where a source frame sits inside a network input.

    The frame of `source_size` was scaled by (`scale_x`, `scale_y`) and placed with its top-left
    corner at (`pad_x`, `pad_y`) in the input. With aspect-preserving letterboxing both scales are
    equal up to rounding of the scaled size.
    """

    source_size: tuple[int, int]  # width, height in pixels
    input_size: tuple[int, int]  # width, height in pixels
    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int

    def to_source(self, boxes: NDArray[Any]) -> NDArray[np.float64]:
        """Map (n, 4) input-pixel corners to source pixels, clipped to the source frame."""
        import numpy as np

        out = np.asarray(boxes, dtype=np.float64).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale_y
        width, height = self.source_size
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
        return out


def letterbox_geometry(
    source_size: tuple[int, int], input_size: tuple[int, int], *, keep_aspect: bool = True
) -> Letterbox:
    """Scale and centre a frame in an input (Ultralytics' `LetterBox` with `center=True`).

    Args:
        source_size: (width, height) of the frame.
        input_size: (width, height) of the network input.
        keep_aspect: False stretches the frame to the whole input (no padding).
    """
    width, height = source_size
    in_w, in_h = input_size
    if not keep_aspect:
        return Letterbox(source_size, input_size, in_w / width, in_h / height, 0, 0)
    scale = min(in_w / width, in_h / height)
    new_w = max(1, min(in_w, round(width * scale)))
    new_h = max(1, min(in_h, round(height * scale)))
    return Letterbox(
        source_size, input_size, new_w / width, new_h / height, (in_w - new_w) // 2,
        (in_h - new_h) // 2,
    )  # fmt: skip


def to_int_box(x1: float, y1: float, x2: float, y2: float) -> tuple[int, int, int, int] | None:
    """Float corners to an integer (x, y, w, h) that covers them; None if empty."""
    left, top = math.floor(x1), math.floor(y1)
    right, bottom = math.ceil(x2), math.ceil(y2)
    if right - left < 1 or bottom - top < 1:
        return None
    return left, top, right - left, bottom - top
