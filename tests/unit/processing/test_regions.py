"""Tiles, regions around motion and tracked objects, and merging what overlapping regions found."""

from __future__ import annotations

from common.processing.regions import head_regions, merge_found, regions_around, tiles
from common.processing.types import Detection


def _box(label: str, score: float, x: int, y: int, w: int, h: int) -> Detection:
    return Detection(label, score, x, y, w, h, time_ms=None, model="test")


def test_a_small_frame_is_searched_whole_and_a_large_one_also_in_tiles() -> None:
    assert tiles(640, 480, 300, 3) == [(0, 0, 640, 480)]
    full, *grid = tiles(1920, 1080, 300, 3)

    assert full == (0, 0, 1920, 1080)
    assert len(grid) == 6  # 3 across (1920 / 450 is 4, at most 3), 2 down (1080 / 450)
    # the tiles cover the frame and overlap: every pixel column lies in some tile
    assert {x for t in grid for x in range(t[0], t[2])} == set(range(1920))
    assert all(t[2] - t[0] == 800 and t[3] - t[1] == 675 for t in grid)  # 1/3 and 1/2, +25 %
    assert tiles(1920, 1080, 300, 1) == [full]  # tiling off
    assert len(tiles(1024, 768, 300, 3)) == 1 + 4  # a 1 MP still: 2 x 2


def test_motion_boxes_near_each_other_share_one_square_region() -> None:
    # two walkers' motion boxes 100 px apart, and one far away; a 1080p frame
    motion = [(500, 400, 40, 110), (640, 420, 40, 100), (1500, 200, 60, 60)]

    regions = regions_around(motion, [], 1920, 1080, 300, 4)

    assert regions is not None
    assert len(regions) == 2
    for x1, y1, x2, y2 in regions:
        assert x2 - x1 == y2 - y1 == 300  # at the model's size
        assert min(x1, y1) >= 0
        assert x2 <= 1920
        assert y2 <= 1080
    held = [r for r in regions if r[0] <= 500 and r[2] >= 680]
    assert held, regions  # both walkers in one region


def test_a_tracked_object_gets_a_region_with_context_and_one_inside_another_is_dropped() -> None:
    car = (100, 600, 400, 200)  # a parked car, 400 px wide
    inside = (200, 650, 50, 50)  # motion on the car (a reflection)

    regions = regions_around([inside], [car], 1920, 1080, 300, 4)

    assert regions == [(0, 400, 600, 1000)]  # 400 x 1.5, shifted to stay in the frame


def test_too_many_regions_are_merged_into_larger_ones() -> None:
    motion = [(x, 100, 20, 20) for x in range(0, 1900, 460)]  # five, too far apart to share

    regions = regions_around(motion, [], 1920, 1080, 300, 3)

    assert len(regions) == 3
    for x, y, w, h in motion:  # every moving box is still looked at
        assert any(r[0] <= x and x + w <= r[2] and r[1] <= y and y + h <= r[3] for r in regions)
    assert regions_around([], [], 1920, 1080, 300, 4) == []


def test_a_box_cut_by_a_region_edge_gives_way_to_the_whole_object() -> None:
    whole = _box("person", 0.7, 250, 100, 100, 200)
    cut = _box("person", 0.9, 250, 100, 50, 200)  # its right edge is the left region's edge
    other = _box("person", 0.6, 600, 100, 100, 200)
    car = _box("car", 0.8, 250, 100, 100, 200)
    vehicle = _box("vehicle", 0.5, 252, 102, 100, 200)

    kept = merge_found(
        [((0, 0, 300, 600), [cut]), ((200, 0, 800, 600), [whole, other, car, vehicle])],
        800,
        600,
        lambda label: "car" if label == "vehicle" else label,
    )

    assert [(d.label, d.score) for d in kept] == [("car", 0.8), ("person", 0.7), ("person", 0.6)]


def test_heads_are_searched_in_the_tops_of_the_largest_people() -> None:
    people = [_box("person", 0.9, 100, 50, 60, 180), _box("person", 0.9, 400, 50, 10, 30)]

    (head,) = head_regions(people, 640, 480)

    x1, y1, x2, y2 = head
    assert y1 <= 50 < 50 + 30 <= y2  # the top of the tall person, where the face is
    assert x1 <= 100
    assert x2 >= 160
    assert y2 < 50 + 180  # not the legs
