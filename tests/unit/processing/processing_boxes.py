"""Box helpers shared by the processing tests."""

from __future__ import annotations

from common.processing.types import Detection

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive)


def corners(d: Detection) -> Box:
    return (d.x, d.y, d.x + d.w, d.y + d.h)


def iou(a: Box, b: Box) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def assert_inside(d: Detection, width: int, height: int) -> None:
    assert d.x >= 0, d
    assert d.y >= 0, d
    assert d.w >= 1, d
    assert d.h >= 1, d
    assert d.x + d.w <= width, (d, width)
    assert d.y + d.h <= height, (d, height)
    assert 0.0 <= d.score <= 1.0, d
