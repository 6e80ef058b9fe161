"""People inferred from faces (off by default): a confident face counts a person no box holds."""

from __future__ import annotations

from pathlib import Path

from common.processing import AnalysisConfig, analyze_image
from common.processing.derived import (
    CONFIRMED_MODEL,
    DERIVED_MODEL,
    kept_with_derived,
    people_from_faces,
)
from common.processing.types import Detection

CONFIG = AnalysisConfig(detectors=("faces", "people"), people_from_faces=True)  # type: ignore[arg-type]


def _box(label: str, score: float, x: int, y: int, w: int, h: int) -> Detection:
    return Detection(label, score, x, y, w, h, time_ms=None, model="test")


def test_a_confident_face_adds_a_body_box_below_it_clipped_to_the_frame() -> None:
    face = _box("face", 0.995, 180, 60, 90, 120)

    (person,) = people_from_faces([face], 512, 512, CONFIG)

    # four faces wide around the face's centre, half a face above it, to the frame's bottom
    assert (person.label, person.model, person.score) == ("person", DERIVED_MODEL, 0.995)
    assert (person.x, person.y, person.w, person.h) == (45, 0, 360, 512)


def test_no_body_box_for_an_unsure_face_or_one_a_person_box_holds() -> None:
    unsure = _box("face", 0.97, 10, 10, 40, 50)  # under people_from_faces_min_score (0.98)
    held = _box("face", 0.999, 300, 40, 40, 50)
    body = _box("person", 0.9, 260, 20, 120, 300)

    assert people_from_faces([unsure, held, body], 640, 480, CONFIG) == []


def test_inferred_people_pass_the_person_filters_and_only_with_both_detectors() -> None:
    face = _box("face", 0.999, 300, 20, 40, 30)  # its body ends at y = 245, inside the mask
    masked = CONFIG.merged(
        {"masks": [{"points": [(0, 0), (1, 0), (1, 1), (0, 1)], "labels": ["person"]}]}
    )

    assert [d.label for d in kept_with_derived([face], CONFIG, 640, 480)] == ["face", "person"]
    assert [d.label for d in kept_with_derived([face], masked, 640, 480)] == ["face"]
    faces_only = CONFIG.merged({"detectors": ["faces"]})
    assert [d.label for d in kept_with_derived([face], faces_only, 640, 480)] == ["face"]
    off = CONFIG.merged({"people_from_faces": False})
    assert [d.label for d in kept_with_derived([face], off, 640, 480)] == ["face"]


def test_the_cameraman_is_a_person_though_hog_finds_no_body(
    skimage_data: Path, mtcnn_weights: Path
) -> None:
    result = analyze_image(skimage_data / "camera.png", CONFIG)

    assert result.counts == {"face": 1, "person": 1}
    person = next(t for t in result.tracks if t.label == "person")
    # the labelled body of bench/eval/labels.json is (0, 65)-(330, 512): IoU >= 0.5
    x, y, w, h = person.box
    inter = max(0, min(x + w, 330) - max(x, 0)) * max(0, min(y + h, 512) - max(y, 65))
    union = w * h + 330 * 447 - inter
    assert inter / union >= 0.5
    assert person.snapshot is not None


def test_with_the_object_detector_a_face_confirms_a_weak_person_box_and_nothing_else() -> None:
    config = AnalysisConfig(people_from_faces=True)  # faces + the object detector
    face = _box("face", 0.999, 300, 40, 40, 50)
    weak = _box("person", 0.18, 260, 20, 130, 400)  # under the person filter, holds the face
    elsewhere = _box("person", 0.2, 0, 0, 100, 300)
    lone_face = _box("face", 0.999, 600, 40, 40, 50)  # e.g. a monkey: no person box at all

    kept = kept_with_derived([face, weak, elsewhere, lone_face], config, 800, 600)

    people = [d for d in kept if d.label == "person"]
    assert [(p.x, p.y, p.w, p.h, p.score) for p in people] == [(260, 20, 130, 400, 0.999)]
    assert people[0].model == CONFIRMED_MODEL
    assert AnalysisConfig().people_from_faces is True


def test_a_face_in_what_the_object_detector_calls_an_animal_confirms_no_person() -> None:
    config = AnalysisConfig(people_from_faces=True)
    monkey_face = _box("face", 0.9992, 300, 40, 40, 50)  # MTCNN is sure of a monkey's face
    weak = _box("person", 0.15, 260, 20, 130, 200)
    dog = _box("dog", 0.6, 250, 10, 150, 220)

    kept = kept_with_derived([monkey_face, weak, dog], config, 800, 600)

    assert [d.label for d in kept] == ["face", "dog"]
