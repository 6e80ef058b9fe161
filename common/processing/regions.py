"""Where region detectors look in a frame: tiles, regions around motion and tracked objects, and
the merging of what each region found.

A detector with a small fixed input (an SSD's 300 x 300) shrinks a whole 1080p frame 3.6 times,
and a person 100 pixels tall becomes 28 pixels: too small for it. Frigate, the reference NVR,
runs its detector on square regions cut around motion and around the objects it already tracks,
at about the model's input size (https://docs.frigate.video/frigate/video_pipeline; its
`calculate_region`: a square of the box's larger side times a multiplier, at least the model's
size, shifted to lie inside the frame). This module does the same:

- `tiles`: a whole frame, then a grid of overlapping tiles when the frame is more than 1.5 times
  the input on a side (stills, and a video's full passes);
- `regions_around`: squares around clusters of motion boxes and around tracked objects'
  predicted boxes, dropped when another holds their box, and merged pairwise (the pair with the
  smallest union first) while there are more than `max_regions`, so a sample's cost is bounded
  however much moves (a merged region is larger, so it sees its objects smaller);
- `merge_found`: boxes from overlapping regions reduced to one per object: greedy NMS per label
  group, and a box cut by a region's inner edge dropped when it lies mostly inside another box
  of its group (the rest of the object is in the next region);
- `head_regions`: where faces are searched inside person boxes.

Regions are (x1, y1, x2, y2) integer corners in frame pixels, right and bottom exclusive. numpy
is imported by `merge_found` alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.processing.types import Detection

Region = tuple[int, int, int, int]
"""(x1, y1, x2, y2) in frame pixels."""

TILE_INPUT_MULTIPLE = 1.5
"""A frame gets round(side / (this x input)) tiles across that side: a tile is about 1.5 inputs
(on the evaluation set, against 2: vehicle recall 0.42 -> 0.77 and person 0.47 -> 0.54 at the
default filters, for 2.9 instead of 1.9 inferences a still)."""
TILE_OVERLAP = 0.25
"""Tiles are this much larger than 1/n of the frame, so an object on a seam is whole in one."""
MOTION_MULTIPLIER = 1.2
"""A motion cluster's region: its larger side times this (at least the input size)."""
OBJECT_MULTIPLIER = 1.5
"""A tracked object's region: its predicted box's larger side times this."""
_CLUSTER_FRACTION = 1.5  # motion boxes cluster while their union fits in this many input sides
_CUT_MARGIN_PX = 2  # a box this close to a region's inner edge was cut by it
_MERGE_IOU = 0.5
_CUT_INSIDE = 0.6  # share of a cut box that must lie in another box for it to be a part of it


def tiles(width: int, height: int, region_px: int, max_grid: int) -> list[Region]:
    """The whole frame, then nx x ny overlapping tiles (nx = round(width / (1.5 x region_px)),
    ny likewise, each at most `max_grid`) when that grid has more than one tile."""
    out: list[Region] = [(0, 0, width, height)]
    unit = TILE_INPUT_MULTIPLE * region_px
    nx = min(max_grid, max(1, round(width / unit)))
    ny = min(max_grid, max(1, round(height / unit)))
    if nx * ny <= 1:
        return out
    tile_w = min(width, math.ceil(width / nx * (1 + TILE_OVERLAP)))
    tile_h = min(height, math.ceil(height / ny * (1 + TILE_OVERLAP)))
    for row in range(ny):
        y = 0 if ny == 1 else round(row * (height - tile_h) / (ny - 1))
        for col in range(nx):
            x = 0 if nx == 1 else round(col * (width - tile_w) / (nx - 1))
            out.append((x, y, x + tile_w, y + tile_h))
    return out


def square_around(
    box: tuple[float, float, float, float],
    width: int,
    height: int,
    region_px: int,
    multiplier: float,
) -> Region:
    """A square region centred on a box (x, y, w, h): side max(`region_px`, larger side x
    `multiplier`), moved to lie inside the frame (and cut to it when larger)."""
    x, y, w, h = box
    side = max(region_px, math.ceil(max(w, h) * multiplier))
    side_x, side_y = min(side, width), min(side, height)
    x1 = round(x + w / 2 - side_x / 2)
    y1 = round(y + h / 2 - side_y / 2)
    x1 = min(max(0, x1), width - side_x)
    y1 = min(max(0, y1), height - side_y)
    return (x1, y1, x1 + side_x, y1 + side_y)


def regions_around(
    motion: Sequence[tuple[float, float, float, float]],
    objects: Sequence[tuple[float, float, float, float]],
    width: int,
    height: int,
    region_px: int,
    max_regions: int,
) -> list[Region]:
    """Regions covering motion boxes and tracked objects' boxes (x, y, w, h), in frame pixels.

    Motion boxes are clustered greedily (largest first) while a cluster's union stays within
    1.5 input sides; each cluster and each object box becomes a square (`square_around`); a
    region whose box another region already holds is dropped; then the two regions with the
    smallest union are merged into one square until at most `max_regions` are left.

    Returns:
        The regions, largest first; [] when there is nothing to look at.
    """
    limit = _CLUSTER_FRACTION * region_px
    clusters: list[list[float]] = []  # x1, y1, x2, y2
    for x, y, w, h in sorted(motion, key=lambda b: -b[2] * b[3]):
        for cluster in clusters:
            union = [
                min(cluster[0], x),
                min(cluster[1], y),
                max(cluster[2], x + w),
                max(cluster[3], y + h),
            ]
            if max(union[2] - union[0], union[3] - union[1]) <= limit:
                cluster[:] = union
                break
        else:
            clusters.append([x, y, x + w, y + h])
    wanted: list[tuple[tuple[float, float, float, float], float]] = [
        ((c[0], c[1], c[2] - c[0], c[3] - c[1]), MOTION_MULTIPLIER) for c in clusters
    ]
    wanted += [(box, OBJECT_MULTIPLIER) for box in objects]
    wanted.sort(key=lambda item: -item[0][2] * item[0][3])
    out: list[Region] = []
    for box, multiplier in wanted:
        if any(_holds(region, box) for region in out):
            continue
        out.append(square_around(box, width, height, region_px, multiplier))
    while len(out) > max(1, max_regions):
        pairs = [(i, j) for i in range(len(out)) for j in range(i + 1, len(out))]
        i, j = min(pairs, key=lambda p: _union_side(out[p[0]], out[p[1]]))
        a, b = out[i], out[j]
        x1, y1 = min(a[0], b[0]), min(a[1], b[1])
        both = (x1, y1, max(a[2], b[2]) - x1, max(a[3], b[3]) - y1)
        out = [r for k, r in enumerate(out) if k not in (i, j)]
        out.append(square_around(both, width, height, region_px, 1.0))
    return sorted(out, key=lambda r: -(r[2] - r[0]) * (r[3] - r[1]))


def _union_side(a: Region, b: Region) -> int:
    return max(max(a[2], b[2]) - min(a[0], b[0]), max(a[3], b[3]) - min(a[1], b[1]))


def head_regions(
    people: Sequence[Detection],
    width: int,
    height: int,
    *,
    max_count: int = 4,
    min_height_px: int = 40,
) -> list[Region]:
    """Squares around the heads of the largest `max_count` people at least `min_height_px` tall:
    the top of each box, as wide as the box (at least half its height), in frame pixels."""
    out: list[Region] = []
    tall = [p for p in people if p.h >= min_height_px]
    for p in sorted(tall, key=lambda d: -d.area_px)[:max_count]:
        side = max(p.w, p.h // 2) * 1.1
        x1 = max(0, round(p.x + p.w / 2 - side / 2))
        y1 = max(0, round(p.y - 0.05 * p.h))
        x2, y2 = min(width, round(x1 + side)), min(height, round(y1 + side))
        if x2 - x1 >= 8 and y2 - y1 >= 8:
            out.append((x1, y1, x2, y2))
    return out


def merge_found(
    found: Sequence[tuple[Region, Sequence[Detection]]],
    width: int,
    height: int,
    group_of: Callable[[str], str],
) -> list[Detection]:
    """One box per object from the boxes of overlapping regions (see the module docstring).

    Args:
        found: each region and the boxes found in it, in frame pixels.
        width: frame width in pixels.
        height: frame height in pixels.
        group_of: the label group of a label (boxes of one group may be one object).

    Returns:
        The kept boxes, best score first.
    """
    import numpy as np

    from common.processing._boxes import iou_one_to_many, nms

    placed = [(d, region) for region, boxes in found for d in boxes]
    if not placed:
        return []
    corners = np.array([(d.x, d.y, d.x + d.w, d.y + d.h) for d, _ in placed], dtype=np.float64)
    scores = np.array([d.score for d, _ in placed])
    cut = np.array([_is_cut(d, region, width, height) for d, region in placed])
    groups: dict[str, list[int]] = {}
    for i, (d, _) in enumerate(placed):
        groups.setdefault(group_of(d.label), []).append(i)
    kept: list[int] = []
    for members in groups.values():
        index = np.asarray(members, dtype=np.intp)
        whole, parts = index[~cut[index]], index[cut[index]]
        mine = [int(i) for i in whole[nms(corners[whole], scores[whole], _MERGE_IOU)]]
        for i in parts[np.argsort(-scores[parts], kind="stable")]:
            if mine:
                others = corners[mine]
                box = corners[i]
                iw = np.clip(
                    np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None
                )
                ih = np.clip(
                    np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None
                )
                inside = iw * ih / max(1.0, (box[2] - box[0]) * (box[3] - box[1]))
                if (iou_one_to_many(box, others) > _MERGE_IOU).any() or (
                    inside >= _CUT_INSIDE
                ).any():
                    continue
            mine.append(int(i))
        kept += mine
    return sorted((placed[i][0] for i in kept), key=lambda d: -d.score)


def _holds(region: Region, box: tuple[float, float, float, float]) -> bool:
    x, y, w, h = box
    return region[0] <= x and region[1] <= y and x + w <= region[2] and y + h <= region[3]


def _is_cut(d: Detection, region: Region, width: int, height: int) -> bool:
    x1, y1, x2, y2 = region
    return (
        (x1 > 0 and d.x <= x1 + _CUT_MARGIN_PX)
        or (y1 > 0 and d.y <= y1 + _CUT_MARGIN_PX)
        or (x2 < width and d.x + d.w >= x2 - _CUT_MARGIN_PX)
        or (y2 < height and d.y + d.h >= y2 - _CUT_MARGIN_PX)
    )
