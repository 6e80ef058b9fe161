"""The config object, the per-box filters and masks, and the tracker's reporting rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from common.processing import AnalysisConfig, Detection, LabelFilter, Mask
from common.processing.filters import filter_detections, masked, passes, point_in_polygon
from common.processing.tracking import IouTracker
from common.processing.types import count_labels, summarize_counts


def box(
    label: str, score: float, x: int, y: int, w: int = 50, h: int = 100, t: int | None = 0
) -> Detection:
    return Detection(label, score, x, y, w, h, t, "test-model")


def test_defaults_are_faces_and_objects_and_overrides_merge_key_by_key() -> None:
    config = AnalysisConfig()
    assert [d.kind for d in config.detectors] == ["faces", "objects"]
    person = config.filter_for("person")

    tuned = config.merged({"filters": {"person": {"threshold": 0.6}}, "video": {"detect_fps": 5}})

    assert tuned.filter_for("person").threshold == 0.6
    assert tuned.filter_for("person").min_score == person.min_score  # the rest is kept
    assert tuned.video.detect_fps == 5
    assert tuned.video.full_frame_every_ms == config.video.full_frame_every_ms
    assert tuned.filter_for("horse") == config.default_filter
    assert hash(tuned) != hash(config)
    assert AnalysisConfig.model_validate_json(tuned.model_dump_json()) == tuned


@pytest.mark.parametrize(
    "override",
    [
        {"filters": {"person": {"min_area_px": 500, "max_area_px": 100}}},
        {"filters": {"person": {"min_score": 1.5}}},
        {"masks": [{"points": [(0, 0), (2, 0), (0, 1)]}]},
        {"masks": [{"points": [(0, 0), (1, 0)]}]},
        {"detectors": ["faces", "faces"]},
        {"detectors": []},
        {"detectors": ["onnx"]},
        {"detectors": ["unicorns"]},
        {"detectors": [{"kind": "onnx", "path": "m.onnx", "sha256": "abc"}]},
        {"detectors": [{"kind": "objects", "labels": ["unicorn"]}]},
        {"video": {"detect_fps": 0}},
        {"surprise": 1},
    ],
)
def test_invalid_overrides_are_refused(override: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AnalysisConfig().merged(override)


def test_area_and_aspect_bounds() -> None:
    rule = LabelFilter(
        min_score=0.5, min_area_fraction=0.01, max_area_px=20_000, max_aspect_ratio=1.0
    )
    # 1000x1000 frame: 1% is 10,000 pixels
    assert passes(box("person", 0.9, 0, 0, 100, 150), rule, 1000, 1000)  # 15,000 px, 0.67
    assert not passes(box("person", 0.4, 0, 0, 100, 150), rule, 1000, 1000)  # score
    assert not passes(box("person", 0.9, 0, 0, 50, 100), rule, 1000, 1000)  # 5,000 px < 1%
    assert not passes(box("person", 0.9, 0, 0, 150, 150), rule, 1000, 1000)  # 22,500 px
    assert not passes(box("person", 0.9, 0, 0, 130, 100), rule, 1000, 1000)  # wider than tall


def test_masks_use_the_bottom_centre_point_and_their_labels() -> None:
    triangle = ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))
    assert point_in_polygon(0.2, 0.2, triangle)
    assert not point_in_polygon(0.8, 0.8, triangle)
    mask = Mask(points=triangle, labels=("car",))
    car_top_left = box("car", 0.9, 100, 0, 100, 100)  # bottom centre (150, 100): in the mask
    car_low = box("car", 0.9, 600, 600, 100, 100)  # bottom centre (650, 700): outside
    person = box("person", 0.9, 100, 0, 100, 100)  # in the polygon, but the mask is for cars

    assert masked(car_top_left, [mask], 1000, 1000)
    assert not masked(car_low, [mask], 1000, 1000)
    assert not masked(person, [mask], 1000, 1000)
    config = AnalysisConfig(masks=(mask,), default_filter=LabelFilter(min_score=0.0))
    kept = filter_detections([car_top_left, car_low, person], config, 1000, 1000)
    assert kept == [car_low, person]


def test_a_camera_names_detectors_by_kind_and_tunes_them_without_their_model() -> None:
    base = AnalysisConfig()

    tuned = base.merged({"detectors": [{"kind": "objects", "score_threshold": 0.4}, "faces"]})

    objects, faces = tuned.detectors
    assert (objects.kind, faces.kind) == ("objects", "faces")
    assert objects.score_threshold == 0.4  # type: ignore[union-attr]
    assert objects.sha256 == base.detector("objects").sha256  # type: ignore[union-attr]
    assert faces == base.detector("faces")


def _tracker(**filters: object) -> IouTracker:
    config = AnalysisConfig(default_filter=LabelFilter(min_score=0.0, threshold=0.6, **filters))  # type: ignore[arg-type]
    tracker = IouTracker(config, snapshots=False)
    tracker.interval_ms = 1000
    return tracker


def test_a_walking_object_is_one_track_and_a_flicker_is_not_reported() -> None:
    tracker = _tracker()
    # A horse walks right 30 px per sample (overlapping boxes); a box flickers once at 0.65 and
    # once at 0.3 elsewhere: its median 0.475 is under the 0.6 threshold.
    for i, time_ms in enumerate((0, 1000, 2000, 3000)):
        frame = [box("horse", 0.7 + 0.05 * i, 100 + 30 * i, 100, t=time_ms)]
        if time_ms == 1000:
            frame.append(box("horse", 0.65, 800, 800, t=time_ms))
        if time_ms == 2000:
            frame.append(box("horse", 0.3, 805, 800, t=time_ms))
        tracker.update(frame, time_ms, None)

    tracks, boxes = tracker.finish()

    (horse,) = tracks
    assert (horse.label, horse.first_ms, horse.last_ms, horse.boxes) == ("horse", 0, 3000, 4)
    assert horse.best_score == pytest.approx(0.85)
    assert horse.best_time_ms == 3000
    assert horse.box == (190, 100, 50, 100)
    assert {b.track_id for b in boxes} == {horse.track_id}
    assert len(boxes) == 4


def test_far_apart_samples_still_link_a_moving_object_without_overlap() -> None:
    tracker = _tracker()
    # 60 px per sample with 50 px wide boxes: no overlap, but the centre stays within reach.
    for i, time_ms in enumerate((0, 1000, 2000)):
        tracker.update([box("person", 0.9, 60 * i, 0, t=time_ms)], time_ms, None)

    tracks, _ = tracker.finish()

    assert [t.boxes for t in tracks] == [3]


def test_a_track_ends_after_the_gap_and_a_return_is_a_new_track() -> None:
    tracker = _tracker()
    tracker.update([box("cat", 0.9, 0, 0, t=0)], 0, None)
    tracker.update([], 1000, None)
    tracker.update([], 2000, None)
    tracker.update([box("cat", 0.9, 0, 0, t=5000)], 5000, None)  # 5 s later, gap 2 s

    tracks, _ = tracker.finish()

    assert [(t.track_id, t.first_ms) for t in tracks] == [(1, 0), (2, 5000)]


def test_counts_read_as_people_write_them() -> None:
    tracker = _tracker()
    tracker.update(
        [box("person", 0.9, 0, 0, t=None), box("car", 0.9, 500, 0, t=None),
         box("person", 0.95, 200, 0, t=None)], None, np.zeros((300, 800, 3), np.uint8),
    )  # fmt: skip
    tracks, _ = tracker.finish()

    counts = count_labels(tracks)

    assert counts == {"person": 2, "car": 1}
    assert summarize_counts(counts) == "2 person, 1 car"
    assert all(t.snapshot is None for t in tracks)  # snapshots=False


def test_snapshot_is_the_best_box_with_a_margin(tmp_path: Path) -> None:
    config = AnalysisConfig(default_filter=LabelFilter(min_score=0.0, threshold=0.0))
    tracker = IouTracker(config)
    frame = np.zeros((400, 400, 3), np.uint8)
    frame[100:200, 100:150] = 255  # the object, white on black
    tracker.update([box("cup", 0.9, 100, 100, 50, 100, t=None)], None, frame)

    (track,), _ = tracker.finish()

    import io

    from PIL import Image

    assert track.snapshot is not None
    image = Image.open(io.BytesIO(track.snapshot.data))
    assert image.size == (70, 140)  # 20% more on each side
    assert np.asarray(image.convert("L"))[70, 35] > 200  # the object is in the middle


def test_a_car_seen_as_a_vehicle_now_and_then_is_one_car() -> None:
    tracker = _tracker()
    labels = ("car", "vehicle", "car", "car")
    for i, label in enumerate(labels):
        tracker.update([box(label, 0.7, 100 + 5 * i, 100, 200, 100, t=500 * i)], 500 * i, None)

    tracks, boxes = tracker.finish()

    (car,) = tracks
    assert (car.label, car.boxes) == ("car", 4)
    assert {b.label for b in boxes} == {"car"}


def test_the_predicted_position_keeps_two_crossing_walkers_apart() -> None:
    tracker = _tracker()
    # A walks right and B walks left, 40 px per sample, 30 px wide: at 2000 ms they have crossed;
    # matched by where each was (not where each is going), the two would swap tracks.
    for i, time_ms in enumerate((0, 500, 1000, 1500, 2000)):
        a = box("person", 0.9, 100 + 40 * i, 0, 30, 90, t=time_ms)
        b = box("person", 0.8, 260 - 40 * i, 0, 30, 90, t=time_ms)
        tracker.update([a, b], time_ms, None)

    tracks, boxes = tracker.finish()

    assert len(tracks) == 2
    for track in tracks:
        xs = [d.x for d in boxes if d.track_id == track.track_id]
        assert xs in ([100, 140, 180, 220, 260], [260, 220, 180, 140, 100])


def test_a_parked_car_is_one_stationary_track_though_looked_at_rarely() -> None:
    config = AnalysisConfig(
        default_filter=LabelFilter(min_score=0.0, threshold=0.5), stationary_after_ms=10_000
    )
    tracker = IouTracker(config, snapshots=False)
    tracker.interval_ms, tracker.stationary_interval_ms = 500, 3000
    # seen twice a second until it has been still for 10 s, then every 3 s (as video analysis
    # samples it), nudged a pixel now and then
    times = [*range(0, 10_001, 500), *range(13_000, 30_001, 3000)]
    for time_ms in times:
        car = box("car", 0.8, 400 + time_ms % 2, 300, 200, 100, t=time_ms)
        tracker.update([car], time_ms, None)
    tracker.update([box("dog", 0.8, 0, 0, 50, 50, t=31_000)], 31_000, None)

    tracks, _ = tracker.finish()

    car, dog = tracks
    assert (car.label, car.first_ms, car.last_ms, car.boxes, car.stationary) == (
        "car",
        0,
        times[-1],
        len(times),
        True,
    )
    assert dog.stationary is False
