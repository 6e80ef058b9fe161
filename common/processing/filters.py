"""Per-box filters camera users tune: score floor, area, aspect ratio, masks.

Semantics follow Frigate's object filters (https://docs.frigate.video/configuration/object_filters)
and masks (https://docs.frigate.video/configuration/masks): a box is in a mask when its
bottom-centre point, where an object touches the ground, lies inside the polygon. Pure Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from common.processing.config import AnalysisConfig, LabelFilter, Mask
    from common.processing.types import Detection


def passes(detection: Detection, rule: LabelFilter, width: int, height: int) -> bool:
    """True when a box meets its label's score floor, area bounds and aspect-ratio bounds.

    Args:
        detection: the box, in pixels of a `width` x `height` frame.
        rule: its label's filter.
        width: frame width in pixels.
        height: frame height in pixels.
    """
    if detection.score < rule.min_score:
        return False
    area_px = detection.area_px
    fraction = area_px / max(1, width * height)
    aspect = detection.w / detection.h
    checks = (
        (rule.min_area_px, area_px, True),
        (rule.max_area_px, area_px, False),
        (rule.min_area_fraction, fraction, True),
        (rule.max_area_fraction, fraction, False),
        (rule.min_aspect_ratio, aspect, True),
        (rule.max_aspect_ratio, aspect, False),
    )
    for bound, value, is_min in checks:
        if bound is not None and (value < bound if is_min else value > bound):
            return False
    return True


def point_in_polygon(x: float, y: float, points: Sequence[tuple[float, float]]) -> bool:
    """Even-odd rule ray casting (W. R. Franklin's PNPOLY); points on an edge may go either way."""
    inside = False
    count = len(points)
    for i in range(count):
        x1, y1 = points[i]
        x2, y2 = points[i - 1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def masked(detection: Detection, masks: Iterable[Mask], width: int, height: int) -> bool:
    """True when the box's bottom-centre point lies in a mask that applies to its label."""
    x = (detection.x + detection.w / 2) / width
    y = (detection.y + detection.h) / height
    return any(
        (not mask.labels or detection.label in mask.labels) and point_in_polygon(x, y, mask.points)
        for mask in masks
    )


def filter_detections(
    detections: Iterable[Detection], config: AnalysisConfig, width: int, height: int
) -> list[Detection]:
    """The boxes that pass their label's filter and lie in no mask (order kept)."""
    return [
        d
        for d in detections
        if passes(d, config.filter_for(d.label), width, height)
        and not masked(d, config.masks, width, height)
    ]
