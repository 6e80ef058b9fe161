"""Class names of the COCO detection benchmark, as object detectors export them.

`COCO80_NAMES` is the 80-class list in the contiguous order that YOLO exports (Ultralytics'
`coco.yaml`, https://docs.ultralytics.com/datasets/detect/coco/) and most ONNX model zoos use.
`COCO91_NAMES` places the same names at the original category ids 1..90 of the COCO annotation
files (https://cocodataset.org/#format-data), which TensorFlow Object Detection API SSD exports
output; index 0 and the 10 unused ids are "" (never reported).
"""

from __future__ import annotations

COCO80_NAMES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

_COCO91_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
    31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
    56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
    85, 86, 87, 88, 89, 90,
)  # fmt: skip

COCO91_NAMES: tuple[str, ...] = tuple(
    dict(zip(_COCO91_IDS, COCO80_NAMES, strict=True)).get(i, "") for i in range(91)
)

DEFAULT_OBJECT_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "bus", "truck", "bird", "cat", "dog", "horse",
)  # fmt: skip
"""What a camera user usually wants reported by an object model (a subset of COCO80)."""
